"""
Charter: a privacy-by-design personal-data platform.

Services declare what they collect, why, how it is protected and how long it is kept (the
catalog); one gate enforces it on every write and read.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
