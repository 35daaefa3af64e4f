"""Full-text search over items: PostgreSQL tsvector where available, ORM filters elsewhere.

The document is built from the fields a benchmark declares searchable, read out of the items'
`data`; required text (NaVAB's question and statements) ranks above other text, which ranks
above short labels (a speaker, a topic). The search box advertises PostgreSQL's websearch
syntax (`climate -nuclear`, `"trade policy"`, `a or b`); off PostgreSQL the same syntax is
parsed here once and applied as filters, so the embedded default finds what it advertises. On
SQLite those filters are exact patterns, run in Python row by row; an FTS5 index of the items
(migration 0008, kept by triggers) first narrows them to the items that hold the words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import add
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Q, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Concat

from evaluation.benchmarks.contract import BenchmarkDefinition, ItemField

SEARCH_CONFIG = "english"

#: SQLite's full-text index of items' `data` (rowid = item id), created by migration 0008.
FTS_TABLE = "benchmark_item_search"


def uses_postgres() -> bool:
    return connection.vendor == "postgresql"


def _weight(field: ItemField) -> str:
    if field.kind == "short":
        return "C"
    return "A" if field.required else "B"


def searchable_fields(benchmarks: Iterable[BenchmarkDefinition]) -> list[str]:
    names: dict[str, None] = {}
    for benchmark in benchmarks:
        names.update((f.name, None) for f in benchmark.content_fields() if f.searchable)
    return list(names)


def document_vector(benchmark: BenchmarkDefinition) -> SearchVector:
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


def document_sql(benchmark: BenchmarkDefinition, data: str) -> tuple[str, list[str]]:
    """`document_vector` as SQL over the jsonb column expression DATA, with its parameters: for
    an INSERT that writes the document with the row (an import), where an expression over the
    stored row is not available."""
    parts: list[str] = []
    params: list[str] = []
    for f in benchmark.content_fields():
        if f.searchable:
            parts.append(f"setweight(to_tsvector(%s::regconfig, COALESCE({data} ->> %s, '')), %s)")
            params += [SEARCH_CONFIG, f.name, _weight(f)]
    if not parts:
        raise ValueError(f"{benchmark.slug} declares no searchable field")
    return " || ".join(parts), params


def refresh_search_documents(queryset: QuerySet[Any], benchmark: BenchmarkDefinition) -> int:
    """Fill `search_document` for these items (all of BENCHMARK); a no-op off PostgreSQL. The
    queryset may be of a historical model (the data migration passes one)."""
    if not uses_postgres():
        return 0
    return queryset.update(search_document=document_vector(benchmark))


@dataclass(frozen=True)
class Term:
    """A word or a quoted phrase (its words in order), possibly negated (`-word`)."""

    words: tuple[str, ...]
    negated: bool = False


# A quoted phrase (its closing quote optional, as websearch_to_tsquery allows) or a bare token,
# either preceded by "-".
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')
_WORD = re.compile(r"\w+")


def parse_websearch(text: str) -> list[list[Term]]:
    """PostgreSQL's websearch syntax as alternatives (joined by `or`) of terms that must all
    hold. Punctuation is not a word, as in PostgreSQL's parser; a bare token with several words
    ("U.S.") reads as a phrase."""
    groups: list[list[Term]] = [[]]
    for match in _TOKEN.finditer(text):
        minus_quoted, quoted, minus, bare = match.groups()
        if quoted is None and bare.lower() == "or" and not minus:
            groups.append([])
            continue
        words = tuple(w.lower() for w in _WORD.findall(quoted if quoted is not None else bare))
        if words:
            groups[-1].append(Term(words, negated=bool(minus_quoted or minus)))
    return [g for g in groups if g]


def _document(benchmarks: Iterable[BenchmarkDefinition]) -> Concat:
    parts: list[Any] = []
    for name in searchable_fields(benchmarks):
        parts += [
            Coalesce(KeyTextTransform(name, "data"), Value(""), output_field=TextField()),
            Value("\n"),
        ]
    if not parts:
        raise ValueError("no searchable field declared")
    return Concat(*parts, output_field=TextField())


def _indexed(term: Term) -> Q | None:
    """The items SQLite's full-text index says hold a token starting with each of TERM's words:
    all the items its pattern can match, and few more (it ignores their order and what lies
    between them). None where it cannot tell (another database; a word of no letter or digit,
    which the index does not hold)."""
    if connection.vendor != "sqlite":
        return None
    words = [w for w in term.words if any(c.isalnum() for c in w)]
    if len(words) < len(term.words):
        return None
    # Each word quoted (its letters and digits are all it holds), `*` for a token's start.
    query = " AND ".join(f'"{w}"*' for w in words)
    return Q(id__in=RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [query]))


def _term_filter(term: Term) -> Q:
    # Words match at a word start ("climate" finds "climates", not "preclimate"), phrase words
    # in order with only non-word characters between them, as PostgreSQL's `<->` does.
    pattern = r"\b" + r"\W+".join(re.escape(w) for w in term.words)
    match = Q(search_text__iregex=pattern)
    # SQLite runs a regular expression in Python, row by row (seconds over a full
    # DiverValue-Bench release): the index first drops the rows without the words, so the
    # pattern runs on the rest only. A negated term excludes the same rows it would match.
    indexed = _indexed(term)
    if indexed is not None:
        match = indexed & match
    return ~match if term.negated else match


def search_by_filters(
    queryset: QuerySet[Any], text: str, benchmarks: Iterable[BenchmarkDefinition]
) -> QuerySet[Any]:
    """The websearch syntax as ORM filters over the searchable fields (the path off
    PostgreSQL; its regular expressions are Python's, as Django's SQLite backend runs them)."""
    groups = parse_websearch(text)
    if not groups:
        return queryset.none()  # as websearch_to_tsquery: nothing to match, no match
    condition = reduce(
        lambda a, b: a | b, (reduce(lambda a, b: a & b, map(_term_filter, g)) for g in groups)
    )
    return queryset.annotate(search_text=_document(benchmarks)).filter(condition)


def search_items(
    queryset: QuerySet[Any], text: str, benchmarks: Iterable[BenchmarkDefinition]
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
    return search_by_filters(queryset, text, benchmarks)
