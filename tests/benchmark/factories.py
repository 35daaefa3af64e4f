"""Releases and triples for page and API tests, built directly (no importer involved)."""

from __future__ import annotations

from typing import Any

from evaluation.benchmarks import get_benchmark
from leaderboard.benchmark.models import (
    Benchmark,
    DatasetRelease,
    Item,
    ItemSlice,
    make_triple_uid,
)
from leaderboard.benchmark.search import refresh_search_documents
from leaderboard.benchmark.slices import index_slices


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
) -> list[Item]:
    """`count` NaVAB items in one nation x mode; texts get a numeric suffix when count > 1.
    FIELDS are declared item fields (into `data`) or Item columns (extra, source_file...)."""
    columns = {k: fields.pop(k) for k in ("extra", "source_file", "source_index") if k in fields}
    triples = []
    for i in range(count):
        suffix = f" ({i})" if count > 1 else ""
        q, s = question + suffix, statement + suffix
        data = {
            "speaker": "",
            "topic": "",
            "language": "en",
            "news_excerpt": "",
            "full_source": "",
            "raw_generation": "",
            "filter_flag": True,
            "filter_flag_text": "",
            **fields,
            "question": q,
            "statement": s,
            "reverse_statement": reverse_statement + suffix,
        }
        triples.append(
            Item(
                release=release,
                uid=make_triple_uid(nation, mode, q, s),
                slices={"nation": nation, "mode": mode},
                data=data,
                **columns,
            )
        )
    return save_items(triples)


def save_items(items: list[Item]) -> list[Item]:
    """Create the items with their slice rows and search vectors, as the importer does."""
    created = Item.objects.bulk_create(items)
    for release in {item.release for item in created}:
        added = Item.objects.filter(pk__in=[t.pk for t in created if t.release == release])
        index_slices(Item, ItemSlice, added)
        refresh_search_documents(added, get_benchmark(release.benchmark.slug))
    return created
