"""Benchmark: lossless photo metadata stripping vs exiftool and a plain copy.

Usage: ``python bench/photos.py [--quick] [--files N] [--jobs N]``. Prints one figure
per line as ``name: value unit``. The corpus (12-megapixel noisy JPEGs of 3-5 MB with
EXIF/GPS/XMP/IPTC/thumbnail injected) is generated once and cached in the temp folder.

Every contender starts from the same state: inputs in the page cache and no dirty
pages left by the previous contender (``os.sync()`` before each timed run, untimed).
``copy_mb_per_s`` is a plain ``shutil.copy`` (no fsync) and is the reference for
``fraction_of_copy_speed``; ``copy_fsync_mb_per_s`` is only informative: the same copy
made as durable as Charter's output (each file fsynced in a background thread pool,
then renamed; the folder fsynced once).

exiftool does not flush its output; Charter does (unless ``--no-fsync``). So besides
``speedup_vs_exiftool`` (Charter durable against exiftool as it runs) the bench times,
right after exiftool, the flush that makes its output as durable as Charter's (each
file fsynced, two threads, then the folder): ``exiftool_durable_files_per_s`` and
``speedup_vs_exiftool_durable`` compare the same work on both sides.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy  # noqa: F401  # the JPEG scan's numpy (loaded on first use) is loaded before timing
from PIL import Image, ImageChops

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "photos"))

from photo_corpus import (  # noqa: E402
    CANARY,
    build_exif,
    inject_jpeg,
    iptc_block,
    jpeg_trailer,
    segment,
    xmp_packet,
)

from charter.photos import StripOptions  # noqa: E402
from charter.photos.batch import strip_many  # noqa: E402

SIZE = (4000, 3000)  # 12 megapixels
CACHE_VERSION = "v1"


@functools.lru_cache(maxsize=4)
def _planes(seed: int) -> list[Image.Image]:
    random.seed(seed)
    gradient = Image.linear_gradient("L").resize(SIZE)
    noise = [Image.effect_noise(SIZE, 12) for _ in range(3)]
    return [
        ImageChops.add(gradient, noise[0], 2, -64),
        noise[1],
        ImageChops.multiply(gradient, noise[2]),
    ]


def _make_photo(args: tuple[int, Path]) -> None:
    index, path = args
    planes = _planes(index % 4)
    shift = (index * 37) % 997
    image = Image.merge("RGB", [ImageChops.offset(p, shift, shift // 2) for p in planes])
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    metadata = [
        segment(0xE1, b"Exif\x00\x00" + build_exif(orientation=1 + index % 8)),
        segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + xmp_packet()),
        segment(0xED, iptc_block()),
        segment(0xFE, b"CANARY-COMMENT-%d" % index),
    ]
    path.write_bytes(inject_jpeg(buf.getvalue(), metadata, jpeg_trailer()))


def corpus(count: int, jobs: int) -> list[Path]:
    """Generate (or reuse) ``count`` photos in a cached temp folder."""
    folder = Path(tempfile.gettempdir()) / f"charter-bench-photos-{CACHE_VERSION}"
    folder.mkdir(exist_ok=True)
    paths = [folder / f"photo{i:04d}.jpg" for i in range(count)]
    missing = [(i, p) for i, p in enumerate(paths) if not p.exists()]
    if missing:
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_make_photo, missing))
    return paths


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def _settle() -> None:
    """Write back dirty pages so a contender does not pay for the previous one."""
    if hasattr(os, "sync"):
        os.sync()


def _copy_fsync(paths: list[Path], folder: Path) -> None:
    """A plain copy with Charter's durability: fsync each file off-thread, rename, fsync dir."""

    def commit(tmp: Path, dst: Path) -> None:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, dst)

    with ThreadPoolExecutor(2) as pool:
        futures = []
        for p in paths:
            tmp = folder / f".{p.name}.part"
            shutil.copy(p, tmp)
            futures.append(pool.submit(commit, tmp, folder / p.name))
        for future in futures:
            future.result()
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _flush_files(folder: Path) -> None:
    """fsync every file of ``folder`` (two threads), then the folder: Charter's durability."""

    def flush(path: Path) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(flush, sorted(folder.iterdir())))
    flush(folder)


def _pixels_digest(path: Path) -> str:
    with Image.open(path) as im:
        return hashlib.sha256(im.tobytes()).hexdigest()


def _leaky(path: Path) -> bool:
    data = path.read_bytes()
    if CANARY in data or b"http://ns.adobe.com/xap" in data:
        return True
    with Image.open(path) as im:
        exif = im.getexif()
        return bool(set(exif) - {0x0112} or exif.get_ifd(0x8825))


def _exiftool_leaks(paths: list[Path]) -> set[str]:
    exiftool = shutil.which("exiftool")
    if exiftool is None:
        return set()
    cmd = [exiftool, "-q", "-q", "-s", "-G1", "-GPS:all", "-XMP:all", "-IPTC:all", "-Make",
           "-Model", "-SerialNumber", "-DateTimeOriginal", "-ThumbnailImage", "-Comment",
           "-MakerNotes:all", "-T", *map(str, paths)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    return {line for line in out.splitlines() if line.strip("-\t ")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20 photos instead of 200")
    parser.add_argument("--files", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-fsync", action="store_true", help="skip fsync (not the default)")
    args = parser.parse_args()
    count = args.files or (20 if args.quick else 200)
    paths = corpus(count, args.jobs)
    total_mb = sum(p.stat().st_size for p in paths) / 1e6
    print(f"corpus_files: {count} files")
    print(f"corpus_mb: {total_mb:.1f} MB")

    with tempfile.TemporaryDirectory(prefix="charter-bench-") as tmp:
        work = Path(tmp)
        for name in ("copy", "copy-fsync", "charter", "exiftool"):
            (work / name).mkdir()
        for p in paths:  # warm the page cache so every contender reads from memory
            p.read_bytes()

        _settle()
        copy_s = _timed(lambda: [shutil.copy(p, work / "copy" / p.name) for p in paths])
        _settle()
        copy_fsync_s = _timed(lambda: _copy_fsync(paths, work / "copy-fsync"))
        pairs = [(p, work / "charter" / p.name) for p in paths]
        results: list = []
        _settle()
        strip_s = _timed(
            lambda: results.extend(
                strip_many(pairs, StripOptions(), jobs=args.jobs, durable=not args.no_fsync)
            )
        )
        failed = [r for r in results if not r.ok]
        if failed:
            raise SystemExit(f"strip failed: {failed[0].error}")

        exiftool = shutil.which("exiftool")
        exif_s = exif_flush_s = None
        if exiftool is not None:
            cmd = [exiftool, "-q", "-q", "-all=", "-tagsfromfile", "@", "-Orientation",
                   "-o", str(work / "exiftool") + "/", *map(str, paths)]  # fmt: skip
            _settle()
            exif_s = _timed(lambda: subprocess.run(cmd, check=True))
            exif_flush_s = _timed(lambda: _flush_files(work / "exiftool"))

        outputs = [dst for _, dst in pairs]
        with ProcessPoolExecutor(args.jobs) as pool:
            leaky = sum(pool.map(_leaky, outputs))
            before = list(pool.map(_pixels_digest, paths))
            after = list(pool.map(_pixels_digest, outputs))
        leaks = leaky + len(_exiftool_leaks(outputs))
        changed = sum(a != b for a, b in zip(before, after, strict=True))

    strip_fps, strip_mbps = count / strip_s, total_mb / strip_s
    copy_mbps = total_mb / copy_s
    print(f"strip_files_per_s: {strip_fps:.1f} files/s")
    print(f"strip_mb_per_s: {strip_mbps:.1f} MB/s")
    if exif_s is None or exif_flush_s is None:
        print("exiftool_files_per_s: n/a")
        print("speedup_vs_exiftool: n/a")
    else:
        print(f"exiftool_files_per_s: {count / exif_s:.1f} files/s")
        print(f"speedup_vs_exiftool: {strip_fps / (count / exif_s):.1f} x")
        if not args.no_fsync:
            durable_fps = count / (exif_s + exif_flush_s)
            print(f"exiftool_durable_files_per_s: {durable_fps:.1f} files/s")
            print(f"speedup_vs_exiftool_durable: {strip_fps / durable_fps:.1f} x")
    print(f"copy_mb_per_s: {copy_mbps:.1f} MB/s")
    print(f"fraction_of_copy_speed: {strip_mbps / copy_mbps:.2f} ratio")
    print(f"copy_fsync_mb_per_s: {total_mb / copy_fsync_s:.1f} MB/s")
    print(f"fraction_of_copy_fsync_speed: {strip_mbps * copy_fsync_s / total_mb:.2f} ratio")
    print(f"leaks: {leaks} files")
    print(f"pixels_changed: {changed} files")


if __name__ == "__main__":
    main()
