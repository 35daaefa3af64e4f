"""How many items the item browser's filter matches, said without counting them where the
release's stored counts already know it.

Counting a filter's items is a join over every item of the release (0.5 s on a full NaVAB
release, on every request). The counts per slice cell (`counts.release_cells`, cached under
the release's content checksum) answer any choice of slice values exactly, and the facets
(`facets.py`, stored at import) answer one field value alone; anything else (a search, a field
with slices) is counted by an indexed query that stops past `COUNT_CAP`, and the page says
"more than" that instead of a number it does not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

from django.core.paginator import Paginator
from django.db.models import QuerySet

from evaluation.benchmarks.contract import BenchmarkDefinition
from leaderboard.catalog.counts import release_cells
from leaderboard.catalog.models import DatasetRelease

COUNT_CAP: Final = 10_000


@dataclass(frozen=True)
class ResultCount:
    n: int
    #: more than `n` match: counting stopped there
    capped: bool = False


def stored_count(
    release: DatasetRelease, benchmark: BenchmarkDefinition, filters: dict[str, str]
) -> int | None:
    """The items FILTERS (the browser's chosen values but the release: slice keys, field
    names, `q`) match, from the stored counts: slice values only, or one field value alone.
    None where they cannot say (a search, a field with anything else, a release without
    facets)."""
    dimensions = {d.key for d in benchmark.slices}
    chosen = {key: value for key, value in filters.items() if key in dimensions}
    others = {key: value for key, value in filters.items() if key not in dimensions}
    if not others:
        return sum(n for values, n in release_cells(release) if _holds(values, chosen))
    if chosen or len(others) != 1 or "q" in others:
        return None
    ((name, value),) = others.items()
    facets = release.facets if isinstance(release.facets, dict) else {}
    pairs = facets.get(name)
    if not isinstance(pairs, list):
        return None
    # The filter matches case-blind (`iexact`), so every stored spelling of the value counts.
    wanted = value.casefold()
    return sum(int(n) for stored, n in pairs if str(stored).casefold() == wanted)


def _holds(values: dict[str, str], chosen: dict[str, str]) -> bool:
    return all(values.get(key) == value for key, value in chosen.items())


def capped_count(queryset: QuerySet[Any]) -> ResultCount:
    """The queryset's rows, counted up to one past COUNT_CAP: its ordering (a search's rank
    over every match) and annotations are left out of the count."""
    n = queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
    return ResultCount(min(n, COUNT_CAP), capped=n > COUNT_CAP)


def result_count(
    release: DatasetRelease,
    benchmark: BenchmarkDefinition,
    filters: dict[str, str],
    queryset: QuerySet[Any],
) -> ResultCount:
    stored = stored_count(release, benchmark, filters)
    return ResultCount(stored) if stored is not None else capped_count(queryset)


class CountedPaginator(Paginator[Any]):
    """A paginator told its count, instead of counting its object list (a capped count pages
    through the first COUNT_CAP)."""

    def __init__(self, object_list: Any, per_page: int, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known = count

    @cached_property
    def count(self) -> int:
        return self._known
