"""A filtered Parquet download is streamed a row group at a time: each group, bounded by its
rows and by its text, is handed to the client as soon as it is written, so a worker holds one
group whatever the size of the result."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pyarrow.parquet as pq
import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from leaderboard.catalog import exports
from tests.factories import add_triples, make_release

TEXT = "x" * 1000  # about a kilobyte of text per row and field


def test_row_groups_end_at_their_row_or_text_limit():
    rows = [("ab", "c")] * 7

    assert [len(g) for g in exports.row_groups(rows, max_rows=3, max_bytes=100)] == [3, 3, 1]
    # Each row holds 3 characters: a group ends with the row that reaches 7.
    assert [len(g) for g in exports.row_groups(rows, max_rows=100, max_bytes=7)] == [3, 3, 1]
    assert list(exports.row_groups([], max_rows=3, max_bytes=7)) == []


def test_each_row_group_is_handed_on_before_the_next_rows_are_read(monkeypatch):
    monkeypatch.setattr(exports, "PARQUET_GROUP_BYTES", 5 * len(TEXT))
    read = 0

    def rows() -> Iterator[tuple[str, ...]]:
        nonlocal read
        for i in range(100):
            read += 1
            yield (str(i), TEXT)

    chunks = exports.parquet_chunks(rows(), ("uid", "text"))
    next(chunks)  # the file's header and its first group

    assert read == 5
    rest = list(chunks)
    assert read == 100
    assert len(rest) >= 100 // 5  # a chunk a group, then the footer


@pytest.mark.django_db
def test_a_filtered_parquet_download_streams_row_groups_bounded_by_their_text(client, monkeypatch):
    release = make_release("r1")
    add_triples(release, "us", "quoted", 23, statement=TEXT)
    add_triples(release, "uk", "quoted", 5, statement=TEXT)
    # Each row carries its statement and the reverse, about 1 KB of text: 4 rows a group.
    monkeypatch.setattr(exports, "PARQUET_GROUP_BYTES", 4 * len(TEXT))

    response = client.get(reverse("download-filtered", args=["navab", "parquet"]), {"nation": "us"})

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    chunks = list(response.streaming_content)
    parquet = pq.ParquetFile(io.BytesIO(b"".join(chunks)))
    groups = [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)]
    assert sum(groups) == 23
    assert max(groups) <= 4 and len(groups) >= 6
    assert len(chunks) >= len(groups)  # handed on group by group, not gathered
    assert set(parquet.read().column("nation").to_pylist()) == {"us"}
