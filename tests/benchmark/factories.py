"""Releases and triples for page and API tests, built directly (no importer involved)."""

from __future__ import annotations

from typing import Any

from leaderboard.benchmark.models import (
    Benchmark,
    DatasetRelease,
    Mode,
    Nation,
    Triple,
    make_triple_uid,
)
from leaderboard.benchmark.search import refresh_search_documents


def navab() -> Benchmark:
    """NaVAB's row, as the migrations and the post-migrate hook write it."""
    return Benchmark.objects.get(slug="navab")


def make_release(version: str = "r1", *, publish: bool = True, **fields: Any) -> DatasetRelease:
    fields.setdefault("title", f"Release {version}")
    fields.setdefault("benchmark", navab())
    release = DatasetRelease.objects.create(version=version, **fields)
    if publish:
        release.publish()
    return release


def add_triples(
    release: DatasetRelease,
    nation: str = "us",
    mode: str = "quoted",
    count: int = 1,
    *,
    question: str = "Should the state fund public broadcasting?",
    statement: str = "Public broadcasting deserves state funding.",
    reverse_statement: str = "Public broadcasting should not get state funding.",
    **fields: Any,
) -> list[Triple]:
    """`count` triples in one nation x mode; texts get a numeric suffix when count > 1."""
    nation_row = Nation.objects.get(code=nation)
    mode_row = Mode.objects.get(code=mode)
    triples = []
    for i in range(count):
        suffix = f" ({i})" if count > 1 else ""
        q, s = question + suffix, statement + suffix
        triples.append(
            Triple(
                release=release,
                nation=nation_row,
                mode=mode_row,
                uid=make_triple_uid(nation, mode, q, s),
                question=q,
                statement=s,
                reverse_statement=reverse_statement + suffix,
                **fields,
            )
        )
    created = Triple.objects.bulk_create(triples)
    # Search reads a stored vector, filled the way the importer fills it.
    refresh_search_documents(release.triples.filter(pk__in=[t.pk for t in created]))
    return created
