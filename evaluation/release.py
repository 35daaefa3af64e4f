"""The release directory: the one on-disk format shared by the site, the harness and the pipeline.

A release directory holds its benchmark's items file (`BenchmarkDefinition.items_file`, one JSON object
per line, keys as the benchmark declares them) and `manifest.json` (version, item counts per
slice cell keyed like `BenchmarkDefinition.count_key`, sha256 and size of every file). The site writes
it on export, the pipeline writes NaVAB's as its output, and each benchmark's harness reads it
(NaVAB's records: `evaluation.benchmarks.navab.records`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evaluation.benchmarks.contract import BenchmarkDefinition

MANIFEST_FILE = "manifest.json"


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def load_manifest(release_dir: Path) -> dict[str, Any]:
    path = Path(release_dir) / MANIFEST_FILE
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def iter_items(release_dir: Path, items_file: str) -> Iterator[dict[str, Any]]:
    """The items of a release directory's ITEMS_FILE, as written by `write_items`."""
    path = Path(release_dir) / items_file
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                item: dict[str, Any] = json.loads(line)
                yield item


def write_items(
    release_dir: Path,
    items_file: str,
    items: Iterable[Mapping[str, Any]],
    count_key: Callable[[Mapping[str, Any]], str],
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ITEMS_FILE (one item per line, keys in the order given) and manifest.json, whose
    "counts" are items per COUNT_KEY of an item; returns the manifest."""
    release_dir = Path(release_dir)
    release_dir.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    items_path = release_dir / items_file
    with items_path.open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(dict(item), ensure_ascii=False) + "\n")
            counts[count_key(item)] += 1
    manifest: dict[str, Any] = dict(metadata or {})
    manifest["counts"] = dict(sorted(counts.items()))
    manifest["total"] = sum(counts.values())
    manifest["files"] = {
        items_file: {"sha256": sha256_file(items_path), "bytes": items_path.stat().st_size}
    }
    (release_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def write_benchmark_release(
    release_dir: Path,
    benchmark: BenchmarkDefinition,
    items: Iterable[Mapping[str, Any]],
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A release directory of BENCHMARK: its `items_file`, counts keyed by its `count_key`."""
    return write_items(
        release_dir,
        benchmark.items_file,
        items,
        lambda item: benchmark.count_key(benchmark.slice_of(item)),
        {"benchmark": benchmark.slug, **(metadata or {})},
    )
