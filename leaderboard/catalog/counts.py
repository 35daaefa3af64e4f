"""Item counts of a release per slice, in one grouped query whatever its size, laid out by
the benchmark's declaration: a row per value of its averaged (else first) dimension, a column
per value of the other tab dimensions, summing over the filter-only ones (NaVAB: nations by
modes; DiverValue-Bench: birth countries by regions, not by every demographic combination)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Count
from django.urls import reverse

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.contract import SliceDimension
from leaderboard.catalog.models import DatasetRelease, Item


@dataclass(frozen=True)
class SliceValue:
    """A value (or, for several column dimensions, a combination) with its label and the
    browser's filter for it."""

    values: dict[str, str]
    label: str
    unscored: bool = False

    @property
    def key(self) -> str:
        return "/".join(self.values.values())


@dataclass(frozen=True)
class CountCell:
    column: SliceValue
    n: int
    url: str


@dataclass(frozen=True)
class CountRow:
    value: SliceValue
    cells: list[CountCell]
    total: int
    url: str


@dataclass(frozen=True)
class CountTable:
    #: names the release's content for the rendered table's cache ("" for a release whose
    #: content has no checksum: rendered every time)
    cache_key: str
    row_dimension: SliceDimension
    column_label: str
    columns: list[SliceValue]
    rows: list[CountRow]
    column_totals: list[CountCell]
    total: int

    @property
    def unscored_columns(self) -> list[SliceValue]:
        return [column for column in self.columns if column.unscored]


def _browse_url(release: DatasetRelease, values: dict[str, str]) -> str:
    browse = reverse("browse", args=[release.benchmark.slug])
    return f"{browse}?{urlencode({'release': release.version, **values})}"


COUNTS_TIMEOUT_S = 24 * 3600
T = TypeVar("T")


def _checksum(release: DatasetRelease) -> str:
    manifest = release.manifest if isinstance(release.manifest, dict) else {}
    checksum = manifest.get("content_sha256")
    return checksum if isinstance(checksum, str) else ""


def release_counts(release: DatasetRelease) -> Counter[str]:
    """Items per count key (`BenchmarkDefinition.count_key`), with the manifest's empty cells as 0.

    Kept in the cache under the release's content checksum, which the importer and an admin
    edit of an item renew: grouping a full release's items costs 0.1-0.5 s on PostgreSQL,
    and the item browser, release card and model page each need it on every request."""
    checksum = _checksum(release)
    if not checksum:  # nothing says when the items change: count them every time
        return _count(release)
    key = f"release-counts|{release.pk}|{checksum}"
    counts: Counter[str] | None = cache.get(key)
    if counts is None:
        counts = _count(release)
        cache.set(key, counts, COUNTS_TIMEOUT_S)
    return counts


def _count(release: DatasetRelease) -> Counter[str]:
    benchmark = get_benchmark(release.benchmark.slug)
    grouped = (
        Item.objects.filter(release=release)
        .order_by()  # the default ordering would add its columns to the GROUP BY
        .values("slices")
        .annotate(n=Count("id"))
    )
    counts: Counter[str] = Counter()
    for row in grouped:
        counts[benchmark.count_key(row["slices"])] += row["n"]
    manifest = release.manifest if isinstance(release.manifest, dict) else {}
    declared = manifest.get("counts")
    for key in declared if isinstance(declared, dict) else {}:
        if isinstance(key, str) and key.count("/") == len(benchmark.slices) - 1:
            counts[key] += 0
    return counts


#: a cell's value on each dimension, and its items
Cell = tuple[dict[str, str], int]
_MEMO: dict[tuple[str, int, str], Any] = {}
_MEMO_KEPT = 32


def _memo(kind: str, release: DatasetRelease, build: Callable[[], T]) -> T:
    """BUILD's value, kept in the process by release and content checksum (callers must not
    change it); built every time for a release without a checksum."""
    checksum = _checksum(release)
    key = (kind, release.pk, checksum)
    if checksum and key in _MEMO:
        return cast(T, _MEMO[key])
    value = build()
    if checksum:
        if len(_MEMO) >= _MEMO_KEPT:
            _MEMO.clear()
        _MEMO[key] = value
    return value


def release_cells(release: DatasetRelease) -> list[Cell]:
    """`release_counts` with each key split into its values, split once per process and
    release content: a full DiverValue-Bench release has some 1,800 cells, and splitting
    their keys several times a request cost 0.1 s."""

    def build() -> list[Cell]:
        benchmark = get_benchmark(release.benchmark.slug)
        return [(benchmark.count_values(key), n) for key, n in release_counts(release).items()]

    return _memo("cells", release, build)


def slice_values(release: DatasetRelease) -> dict[str, list[str]]:
    """The values the release holds on each of its benchmark's dimensions, in declared order."""
    benchmark = get_benchmark(release.benchmark.slug)
    found: dict[str, set[str]] = {d.key: set() for d in benchmark.slices}
    for values, _ in release_cells(release):
        for dimension, value in values.items():
            found[dimension].add(value)
    return {d.key: sorted(found[d.key], key=d.sort_key) for d in benchmark.slices}


def count_table(release: DatasetRelease) -> CountTable:
    """Every value the release holds (or its manifest names) appears, so an empty cell shows
    as 0 instead of vanishing. Built once per process and release content (a full
    DiverValue-Bench release's table has some 800 linked cells)."""
    return _memo("table", release, lambda: _count_table(release))


def _count_table(release: DatasetRelease) -> CountTable:
    benchmark = get_benchmark(release.benchmark.slug)
    row_dimension = benchmark.averaged_dimension or benchmark.slices[0]
    others = [d for d in benchmark.slices if d is not row_dimension and d.tabs]
    counts = release_counts(release)
    cells: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for key, n in counts.items():
        values = benchmark.count_values(key)
        cells[(values[row_dimension.key], tuple(values[d.key] for d in others))] += n
    row_values = sorted({r for r, _ in cells}, key=row_dimension.sort_key)
    column_values = sorted(
        {c for _, c in cells},
        key=lambda combo: tuple(d.sort_key(v) for d, v in zip(others, combo, strict=True)),
    )
    columns = [_column(others, combo) for combo in column_values]
    rows = []
    for value in row_values:
        filters = {row_dimension.key: value}
        row_cells = [
            CountCell(
                c, cells.get((value, combo), 0), _browse_url(release, {**filters, **c.values})
            )
            for c, combo in zip(columns, column_values, strict=True)
        ]
        label = SliceValue(filters, row_dimension.label_of(value))
        total = sum(cell.n for cell in row_cells)
        rows.append(CountRow(label, row_cells, total, _browse_url(release, filters)))
    totals = [
        CountCell(c, sum(row.cells[i].n for row in rows), _browse_url(release, c.values))
        for i, c in enumerate(columns)
    ]
    checksum = _checksum(release)
    return CountTable(
        f"{release.pk}-{checksum}" if checksum else "",
        row_dimension,
        " / ".join(d.label for d in others) or "Items",
        columns,
        rows,
        totals,
        sum(row.total for row in rows),
    )


def _column(dimensions: list[SliceDimension], combo: tuple[str, ...]) -> SliceValue:
    values = {d.key: v for d, v in zip(dimensions, combo, strict=True)}
    label = " · ".join(d.label_of(v) for d, v in zip(dimensions, combo, strict=True)) or "Items"
    unscored = any(v in d.unscored for d, v in zip(dimensions, combo, strict=True))
    return SliceValue(values, label, unscored)
