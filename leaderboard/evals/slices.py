"""Where a release's items and results sit in its benchmark's slice dimensions.

Scores carry their cell in `Score.slices`; a per-example result's cell is its item's. How an
item's slice values are stored is the benchmark app's business, so the item side of that is
read here, in one place, for every view, serializer and query of results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Q

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.contract import BenchmarkDefinition
from leaderboard.catalog.models import DatasetRelease, Item


def declaration(release: DatasetRelease) -> BenchmarkDefinition:
    """The release's benchmark as declared in `evaluation.benchmarks`."""
    return get_benchmark(release.benchmark.slug)


def item_slice_paths(benchmark: BenchmarkDefinition, prefix: str = "") -> dict[str, str]:
    """dimension -> the lookup path of an item's value on it, from a model whose item is at
    `prefix` (e.g. "item__"). Within one job's results these key lookups are cheap; listing
    items of a slice across a release goes through the indexed `Item.objects.in_slice`."""
    return {d.key: f"{prefix}slices__{d.key}" for d in benchmark.slices}


def item_slice_q(
    benchmark: BenchmarkDefinition, selected: Mapping[str, str], prefix: str = ""
) -> Q:
    """Items (at `prefix`) in the selected values of the given dimensions."""
    paths = item_slice_paths(benchmark, prefix)
    return Q(**{paths[key]: value for key, value in selected.items() if key in paths})


def item_slices(benchmark: BenchmarkDefinition, item: Item) -> dict[str, str]:
    return {d.key: str(item.slices.get(d.key, "")) for d in benchmark.slices}


def item_values(benchmark: BenchmarkDefinition, item: Item) -> dict[str, Any]:
    """The item's declared fields (slice fields as their values)."""
    values: dict[str, Any] = {**item.data, **item_slices(benchmark, item), "uid": item.uid}
    return {f.name: values.get(f.name) for f in benchmark.item_fields}


def slice_order(benchmark: BenchmarkDefinition, values: Iterable[str], dimension: str) -> list[str]:
    """Values of a dimension in the declaration's order (labelled ones first), then the rest
    alphabetically."""
    known = list(benchmark.slice_dimension(dimension).value_labels)
    rank = {value: i for i, value in enumerate(known)}
    return sorted(set(values), key=lambda v: (rank.get(v, len(rank)), v))
