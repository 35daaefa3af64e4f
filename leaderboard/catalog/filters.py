"""One filter for items, shared by the dataset browser, the API and filtered downloads.

Its fields come from the benchmarks' declarations: one per slice dimension (looked up in the
indexed ItemSlice rows), one per short declared field (NaVAB's topic and language, exact and
case-blind), and `q`, full-text search over the searchable fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import django_filters
from django.db import connection
from django.db.models import Q, QuerySet

from evaluation.benchmarks import all_benchmarks
from evaluation.benchmarks.contract import BenchmarkDefinition, ItemField, SliceDimension
from leaderboard.catalog.counts import slice_values
from leaderboard.catalog.facets import field_filters, stored_matches
from leaderboard.catalog.models import DatasetRelease, Item, ItemQuerySet
from leaderboard.catalog.search import search_items


def slice_dimensions(benchmarks: Sequence[BenchmarkDefinition]) -> list[SliceDimension]:
    dimensions: dict[str, SliceDimension] = {}
    for benchmark in benchmarks:
        for dimension in benchmark.slices:
            dimensions.setdefault(dimension.key, dimension)
    return list(dimensions.values())


class ItemFilterBase(django_filters.FilterSet):
    release = django_filters.ModelChoiceFilter(
        queryset=DatasetRelease.objects.all(), to_field_name="version", label="Release"
    )
    q = django_filters.CharFilter(method="filter_search", label="Search")

    benchmarks: tuple[BenchmarkDefinition, ...] = ()

    class Meta:
        model = Item
        fields = ["release", "q"]

    @property
    def form(self) -> Any:
        """The form, its slice fields offering (and accepting) the values the release being
        filtered holds, so that an unknown value is explained instead of matching nothing."""
        first = not hasattr(self, "_form")
        form = super().form
        if first:
            values = self._release_slice_values()
            for dimension in slice_dimensions(self.benchmarks):
                field = form.fields[dimension.key]
                held = values.get(dimension.key, [])
                field.choices = [("", f"All ({dimension.label.lower()})")] + [
                    (v, dimension.label_of(v)) for v in held
                ]
        return form

    def _release_slice_values(self) -> dict[str, list[str]]:
        version = (self.data or {}).get("release")
        # The filtered benchmarks' releases only: the newest release of another benchmark
        # holds other values, and would refuse every one of these.
        releases = DatasetRelease.objects.select_related("benchmark").filter(
            benchmark__slug__in=[b.slug for b in self.benchmarks]
        )
        release = releases.filter(version=version).first() if version else releases.current()
        return slice_values(release) if release is not None else {}

    def filter_search(self, queryset: QuerySet[Item], name: str, value: str) -> QuerySet[Item]:
        return search_items(queryset, value, self.benchmarks)

    def filter_field(self, queryset: QuerySet[Item], name: str, value: str) -> QuerySet[Item]:
        """Items whose field NAME is VALUE, case-blind. On PostgreSQL the values that can match
        are first read from the releases' stored facets and looked up in the GIN index of
        `data` (migration 0009): UPPER() over every item's `data` read the whole release (a
        free-text field such as DiverValue-Bench's user id has no short list of values)."""
        matching = Q(**{f"data__{name}__iexact": value})
        if connection.vendor != "postgresql":
            return queryset.filter(matching)
        declaring = [b.slug for b in self.benchmarks if name in map(_name, field_filters([b]))]
        facets = DatasetRelease.objects.filter(benchmark__slug__in=declaring).values_list(
            "facets", flat=True
        )
        stored = stored_matches(facets, name, value)
        if stored is None:  # a release without stored facets: read its items
            return queryset.filter(matching)
        if not stored:
            return queryset.none()
        indexed = Q()
        for candidate in stored:
            indexed |= Q(data__contains={name: candidate})
        return queryset.filter(indexed & matching)

    @staticmethod
    def filter_slice(queryset: QuerySet[Item], name: str, value: str) -> QuerySet[Item]:
        assert isinstance(queryset, ItemQuerySet)
        return queryset.in_slice(name, value)


def _name(field: ItemField) -> str:
    return field.name


@cache
def _filter_class(slugs: tuple[str, ...]) -> type[ItemFilterBase]:
    benchmarks = tuple(b for b in all_benchmarks() if b.slug in slugs)
    attrs: dict[str, Any] = {"benchmarks": benchmarks}
    for dimension in slice_dimensions(benchmarks):
        attrs[dimension.key] = django_filters.ChoiceFilter(
            method=ItemFilterBase.filter_slice, label=dimension.label, choices=()
        )
    for field in field_filters(benchmarks):
        attrs[field.name] = django_filters.CharFilter(method="filter_field", label=field.label)
    return type("ItemFilter", (ItemFilterBase,), attrs)


def item_filter_class(benchmark: str | None = None) -> type[ItemFilterBase]:
    """The filter over one benchmark's declared slices and fields, or every registered
    benchmark's (a benchmark registered at run time gets a new class)."""
    return _filter_class((benchmark,) if benchmark else tuple(b.slug for b in all_benchmarks()))
