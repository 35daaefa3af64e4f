"""Full-text search over triples: PostgreSQL tsvector where available, LIKE elsewhere."""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Q
from django.db.models.expressions import CombinedExpression

from leaderboard.benchmark.models import TripleQuerySet

SEARCH_CONFIG = "english"
_SEARCH_FIELDS = ("question", "statement", "reverse_statement", "speaker", "topic")


def uses_postgres() -> bool:
    return connection.vendor == "postgresql"


def document_vector() -> CombinedExpression:
    # Weights rank hits in the question and statement above those in the speaker or topic.
    return (
        SearchVector("question", weight="A", config=SEARCH_CONFIG)
        + SearchVector("statement", weight="A", config=SEARCH_CONFIG)
        + SearchVector("reverse_statement", weight="B", config=SEARCH_CONFIG)
        + SearchVector("speaker", "topic", weight="C", config=SEARCH_CONFIG)
    )


def refresh_search_documents(queryset: TripleQuerySet) -> int:
    """Fill `search_document` for these triples; a no-op off PostgreSQL."""
    if not uses_postgres():
        return 0
    return queryset.update(search_document=document_vector())


def search_triples(queryset: TripleQuerySet, text: str) -> TripleQuerySet:
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
    condition = Q()
    for term in text.split():
        term_match = Q()
        for field in _SEARCH_FIELDS:
            term_match |= Q(**{f"{field}__icontains": term})
        condition &= term_match
    return queryset.filter(condition)
