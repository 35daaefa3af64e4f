"""One filter for triples, shared by the dataset browser, the API and filtered downloads."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from leaderboard.benchmark.models import DatasetRelease, Mode, Nation, Triple, TripleQuerySet
from leaderboard.benchmark.search import search_triples


class TripleFilter(django_filters.FilterSet):
    release = django_filters.ModelChoiceFilter(
        queryset=DatasetRelease.objects.all(), to_field_name="version", label="Release"
    )
    nation = django_filters.ModelChoiceFilter(
        queryset=Nation.objects.all(),
        to_field_name="code",
        label="Nation",
        empty_label="All nations",
    )
    mode = django_filters.ModelChoiceFilter(
        queryset=Mode.objects.all(), to_field_name="code", label="Mode", empty_label="All modes"
    )
    topic = django_filters.CharFilter(field_name="topic", lookup_expr="iexact", label="Topic")
    language = django_filters.CharFilter(
        field_name="language", lookup_expr="iexact", label="Language"
    )
    q = django_filters.CharFilter(method="filter_search", label="Search")

    class Meta:
        model = Triple
        fields = ["release", "nation", "mode", "topic", "language", "q"]

    def filter_search(self, queryset: QuerySet[Triple], name: str, value: str) -> QuerySet[Triple]:
        assert isinstance(queryset, TripleQuerySet)
        return search_triples(queryset, value)
