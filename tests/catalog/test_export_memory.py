"""Downloads stream in constant memory: 200k triples cost about what 20k do."""

from __future__ import annotations

import psutil
import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from evaluation.benchmarks.navab import MODES, NATIONS
from leaderboard.catalog.models import DatasetRelease
from tests.factories import make_release

MB = 1024 * 1024
SMALL, BIG = 20_000, 200_000

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def insert_triples(release: DatasetRelease, count: int) -> None:
    """`count` NaVAB items of about 350 characters each, generated inside PostgreSQL."""
    nations = [n.code for n in NATIONS]
    modes = [m.code for m in MODES]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO benchmark_item (release_id, uid, slices, data, extra, source_file,
                source_index)
            SELECT %s, 'u' || lpad(i::text, 12, '0'),
                jsonb_build_object('nation', (%s::text[])[1 + i %% %s],
                                   'mode', (%s::text[])[1 + (i / 7) %% %s]),
                jsonb_build_object(
                    'question', 'Should the state fund programme ' || i || '? ' || repeat('q ', 10),
                    'statement', 'The state should fund programme ' || i || ', "as promised". '
                        || repeat('yes ', 15),
                    'reverse_statement', 'The state should not fund programme ' || i || '. '
                        || repeat('no ', 25),
                    'speaker', 'Minister ' || (i %% 97), 'full_source', '',
                    'topic', 'topic ' || (i %% 11), 'language', 'en',
                    'news_excerpt', repeat('news, ', 8), 'raw_generation', '',
                    'filter_flag', true, 'filter_flag_text', ''),
                '{}', 'generated.json', i
            FROM generate_series(1, %s) AS i
            """,
            [release.pk, nations, len(nations), modes, len(modes), count],
        )


def rss_growth_while_streaming(client: Client, url: str) -> tuple[int, int]:
    """Peak RSS growth (sampled at every chunk) and the number of bytes streamed."""
    process = psutil.Process()
    start = process.memory_info().rss
    response = client.get(url)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    peak = process.memory_info().rss
    size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        peak = max(peak, process.memory_info().rss)
    return peak - start, size


def test_streaming_200k_triples_takes_no_more_memory_than_20k(client: Client):
    for version, count in (("small", SMALL), ("big", BIG)):
        release = make_release(version, title=version, published=False)
        insert_triples(release, count)
        release.publish()

    for fmt in ("jsonl", "csv", "parquet"):
        url = reverse("download-filtered", args=["navab", fmt]) + "?release="
        # The small download goes first: it also pays for warming up (pyarrow's allocator).
        small, small_bytes = rss_growth_while_streaming(client, url + "small")
        big, big_bytes = rss_growth_while_streaming(client, url + "big")

        assert big_bytes > 9 * small_bytes, fmt
        # Text formats: holding the whole download in memory would cost far over 50 MB.
        assert big_bytes > 50 * MB or fmt == "parquet"
        assert big - small < 50 * MB, (
            f"{fmt}: +{big / MB:.0f} MB for {BIG} triples, +{small / MB:.0f} MB for {SMALL}"
        )
