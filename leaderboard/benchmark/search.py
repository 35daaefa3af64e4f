"""Full-text search over items: PostgreSQL tsvector where available, LIKE elsewhere.

The document is built from the fields a benchmark declares searchable, read out of the items'
`data`; required text (NaVAB's question and statements) ranks above other text, which ranks
above short labels (a speaker, a topic).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from operator import add
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Q, QuerySet, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce

from evaluation.benchmarks.contract import Benchmark, ItemField

SEARCH_CONFIG = "english"


def uses_postgres() -> bool:
    return connection.vendor == "postgresql"


def _weight(field: ItemField) -> str:
    if field.kind == "short":
        return "C"
    return "A" if field.required else "B"


def searchable_fields(benchmarks: Iterable[Benchmark]) -> list[str]:
    names: dict[str, None] = {}
    for benchmark in benchmarks:
        names.update((f.name, None) for f in benchmark.content_fields() if f.searchable)
    return list(names)


def document_vector(benchmark: Benchmark) -> SearchVector:
    vectors = [
        SearchVector(
            Coalesce(KeyTextTransform(f.name, "data"), Value(""), output_field=TextField()),
            weight=_weight(f),
            config=SEARCH_CONFIG,
        )
        for f in benchmark.content_fields()
        if f.searchable
    ]
    if not vectors:
        raise ValueError(f"{benchmark.slug} declares no searchable field")
    vector: SearchVector = reduce(add, vectors)
    return vector


def refresh_search_documents(queryset: QuerySet[Any], benchmark: Benchmark) -> int:
    """Fill `search_document` for these items (all of BENCHMARK); a no-op off PostgreSQL. The
    queryset may be of a historical model (the data migration passes one)."""
    if not uses_postgres():
        return 0
    return queryset.update(search_document=document_vector(benchmark))


def search_items(
    queryset: QuerySet[Any], text: str, benchmarks: Iterable[Benchmark]
) -> QuerySet[Any]:
    text = text.strip()
    if not text:
        return queryset
    if uses_postgres():
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        return (
            queryset.filter(search_document=query)
            .annotate(rank=SearchRank(F("search_document"), query))
            .order_by("-rank", "uid")
        )
    names = searchable_fields(benchmarks)
    condition = Q()
    for term in text.split():
        term_match = Q()
        for name in names:
            term_match |= Q(**{f"data__{name}__icontains": term})
        condition &= term_match
    return queryset.filter(condition)
