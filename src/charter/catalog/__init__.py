"""
The catalog: what each service collects, why, how it is protected and how long it is kept.
"""

from charter.catalog.catalog import Catalog
from charter.catalog.loader import builtin_catalog_path, load_catalog
from charter.catalog.model import InventoryRow, Service

__all__ = ["Catalog", "InventoryRow", "Service", "builtin_catalog_path", "load_catalog"]
