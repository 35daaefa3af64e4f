"""The values each filterable field of a release takes, with their item counts: computed once
when items are written (import, admin edit) and stored on the release, because finding them per
request is one `SELECT DISTINCT` over every item per dropdown (seconds on a full release)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.filters import field_filters

#: {field name: [[value, items], ...] in value order}
Facets = dict[str, list[list[Any]]]


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
