"""
Benchmark: load and validate a synthetic catalog of 1,000 services x 30 inventory rows.

Prints ``catalog_load_seconds`` (target < 1) and ``catalog_peak_mb`` (target < 200), the peak
resident memory of this process after loading, one figure per line as ``name: value unit``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from charter.catalog import builtin_catalog_path, load_catalog
from charter.taxonomy import BUILTIN_DATA_TYPES

PURPOSES = ("app_functionality", "personalization", "analytics", "advertising")
QUALIFIERS = ("identified", "pseudonymized")


def write_synthetic(folder: Path, services: int, rows: int) -> None:
    """A valid catalog folder with ``services`` services of ``rows`` rows each."""
    base = builtin_catalog_path()
    for name in ("regions.yaml", "system.yaml"):
        shutil.copy(base / name, folder / name)
    order = ", ".join(f"svc_{i:04d}" for i in range(services))
    (folder / "catalog.yaml").write_text(
        f"id: synthetic\nname: Synthetic\nversion: '1'\norder: [{order}]\n"
    )
    types = [t for t in BUILTIN_DATA_TYPES]
    for i in range(services):
        lines = [
            f"id: svc_{i:04d}",
            f"name: Service {i}",
            "summary: A synthetic service for the load benchmark.",
            'markets: {available: all, excluded: ["cn"]}',
            "inventory:",
        ]
        for r in range(rows):
            t = types[r % len(types)]
            q = QUALIFIERS[(r // len(types)) % 2]
            p = PURPOSES[(r + i) % 4]
            days = "{days: 90}" if r % 3 else "until_deleted"
            lines.append(
                f"  - {{category: {t.category.value}, type: {t.id}, qualifier: {q}, purposes: [{p}], "
                f"transit: [https], at_rest: aes_128, retention: {days}}}"
            )
        lines += [
            "functions:",
            "  - id: main",
            "    name: Main",
            "    description: The main function.",
            "    collects:",
            f"      - {{type: {types[0].id}, purposes: [{PURPOSES[i % 4]}]}}",
            "controls:",
            "  consent: {asked: true, on_withdrawal: [stop_collection, delete_server_data]}",
            "  personalization_switch: true",
            "  system_switches: [user_experience_program]",
        ]
        (folder / f"svc_{i:04d}.yaml").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="a tenth of the size")
    args = parser.parse_args()
    services = args.services // 10 if args.quick else args.services
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_synthetic(folder, services, args.rows)
        start = time.perf_counter()
        catalog = load_catalog(folder)
        elapsed = time.perf_counter() - start
        assert len(catalog) == services
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"catalog_services: {services} count")
    print(f"catalog_rows: {services * args.rows} count")
    print(f"catalog_load_seconds: {elapsed:.3f} s")
    print(f"catalog_peak_mb: {peak_mb:.1f} MB")


if __name__ == "__main__":
    main()
