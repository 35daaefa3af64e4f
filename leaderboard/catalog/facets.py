"""The values each filterable field of a release takes, with their item counts: computed once
when items are written (import, admin edit) and stored on the release, because finding them per
request is one `SELECT DISTINCT` over every item per dropdown (seconds on a full release)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.contract import BenchmarkDefinition, ItemField

#: {field name: [[value, items], ...] in value order}
Facets = dict[str, list[list[Any]]]


def field_filters(benchmarks: Sequence[BenchmarkDefinition]) -> list[ItemField]:
    """The short declared fields items can be filtered by (a value list on the browser)."""
    found: dict[str, ItemField] = {}
    for benchmark in benchmarks:
        for field in benchmark.content_fields():
            if field.kind == "short":
                found.setdefault(field.name, field)
    return list(found.values())


def count_facets(names: Iterable[str], datas: Iterable[dict[str, Any]]) -> Facets:
    """Items per value of each field NAMES lists, over the items' `data` (blank values are not
    a choice: filtering by one would match nothing)."""
    counters: dict[str, Counter[str]] = {name: Counter() for name in names}
    for data in datas:
        for name, counter in counters.items():
            value = data.get(name)
            if value not in ("", None):
                counter[str(value)] += 1
    return {name: [[v, counter[v]] for v in sorted(counter)] for name, counter in counters.items()}


def release_facets(item_model: Any, release: Any) -> Facets:
    """RELEASE's facets recomputed from its stored items (the models are passed in so that
    the data migration can use its historical ones)."""
    names = [f.name for f in field_filters([get_benchmark(release.benchmark.slug)])]
    datas = (
        item_model.objects.filter(release_id=release.pk)
        .order_by()
        .values_list("data", flat=True)
        .iterator(chunk_size=2000)
    )
    return count_facets(names, datas)


def refresh_facets(release_model: Any, item_model: Any, release: Any) -> None:
    release.facets = release_facets(item_model, release)
    release_model.objects.filter(pk=release.pk).update(facets=release.facets)


def facet_values(facets: Any, name: str) -> list[str]:
    """The stored values of field NAME, in order ([] for a release without the field)."""
    pairs = facets.get(name) if isinstance(facets, dict) else None
    return [str(pair[0]) for pair in pairs] if isinstance(pairs, list) else []


def stored_matches(facets: Iterable[Any], name: str, text: str) -> list[Any] | None:
    """The values of field NAME stored in releases of these FACETS (those of the benchmarks
    declaring NAME) that TEXT names case-blind, each as the JSON value it may be stored as (a
    facet keeps `str(value)`, so "7" may be the number 7): what a case-blind filter on NAME can
    match, found without reading the items. Python's case folding finds a superset of
    PostgreSQL's UPPER() matches; the filter still compares with UPPER(). None where a release
    has no stored facet of NAME, so the items must be read."""
    folded = text.casefold()
    found: list[Any] = []
    for release_facets in facets:
        if not isinstance(release_facets, dict) or name not in release_facets:
            return None
        for value in facet_values(release_facets, name):
            if value.casefold() == folded or value.upper() == text.upper():
                found += [value, *_typed(value)]
    return found


def _typed(value: str) -> list[Any]:
    if value in ("True", "False"):
        return [value == "True"]
    for kind in (int, float):
        try:
            number = kind(value)
        except ValueError:
            continue
        if str(number) == value:
            return [number]
    return []
