"""The shared board partials read a benchmark's own words from its declaration: rendered for
the toy benchmark (no users, no nations, no triples) they say nothing of NaVAB or
DiverValue-Bench."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string

from evaluation.benchmarks import get_benchmark, register, unregister
from evaluation.benchmarks.contract import (
    IntervalMethod,
    Method,
    Metric,
    MetricKind,
    Track,
)
from evaluation.benchmarks.disparity import Disparity
from leaderboard.boards.alignment_effect import Outcome, _row
from leaderboard.boards.disparity import DisparityRow
from leaderboard.catalog.models import Benchmark, DatasetRelease
from leaderboard.evals.disparity import KeptDisparity
from leaderboard.evals.models import EvaluationJob
from tests.toy_benchmark import BENCHMARK, REGISTRATION

#: words of the two hosted benchmarks that a toy benchmark's page must not show
FOREIGN = ("user", "nation", "triple", "answer_w", "answer_l")

#: a metric clustering its items by article (a cluster noun no hosted benchmark uses)
BY_ARTICLE = Metric(
    key="margin",
    label="Margin",
    kind=MetricKind.MARGIN,
    interval=IntervalMethod.CLUSTER,
    cluster_field="topic",
    cluster_noun="article",
)
PER_ARTICLE = Method(
    key="pick", label="Pick", track=Track.LOGLIKELIHOOD, metrics=(BY_ARTICLE,), primary="margin"
)


@pytest.fixture
def toy() -> Iterator[None]:
    slug, _, target = REGISTRATION.partition("=")
    register(slug, target)
    yield
    unregister(slug)


def foreign_words(html: str) -> list[str]:
    return [word for word in FOREIGN if word in html.lower()]


def test_it_names_what_a_disparity_interval_resamples_from_the_metric() -> None:
    found = Disparity("pick", "acc", "country", 0.5, 10, 0.2, 0.1, 0.3, None, None)
    items = render_to_string(
        "boards/partials/disparity_cells.html",
        {"row": DisparityRow(BENCHMARK.slices[0], BENCHMARK.methods[0], KeptDisparity.of(found))},
    )
    articles = render_to_string(
        "boards/partials/disparity_cells.html",
        {"row": DisparityRow(BENCHMARK.slices[0], PER_ARTICLE, KeptDisparity.of(found))},
    )
    assert "95% interval: items resampled" in items
    assert "95% interval: articles resampled" in articles
    assert foreign_words(items + articles) == []


def test_it_names_the_alignment_effects_clusters_by_the_metrics_noun() -> None:
    pairs = [
        (Outcome(0.1 * i, i > 4, f"a{i % 3}"), Outcome(0.2 * i, i > 2, f"a{i % 3}"))
        for i in range(9)
    ]
    rows = _row("All evaluated items", PER_ARTICLE, pairs, False, seed=0)
    html = render_to_string(
        "boards/partials/alignment.html",
        {"effect": SimpleNamespace(summary=rows), "effect_tables": [("effect", rows)]},
    )
    assert "resamples whole articles" in html
    # the margin and the correct rate it also compares on both count articles
    assert html.count("(3 articles)") == 2
    assert foreign_words(html) == []


def test_it_states_a_runs_limit_in_the_benchmarks_own_dimensions(toy: None) -> None:
    release = DatasetRelease(benchmark=Benchmark(slug="toy"), version="v1")
    card = {"limit": 5, "release": {"version": "v1", "items_sha256": "ab" * 32}}
    html = render_to_string(
        "boards/partials/repro_card.html",
        {"card": EvaluationJob(release=release, repro_card=card).card, "job": None},
    )
    assert "the first 5 items" in html
    assert "sha256 of items.jsonl" in html
    assert foreign_words(html) == []


def test_it_states_navabs_limit_per_nation_and_mode() -> None:
    release = DatasetRelease(benchmark=Benchmark(slug="navab"), version="v1")
    card = EvaluationJob(release=release, repro_card={"limit": 5}).card
    assert get_benchmark("navab").limit_per == ("nation", "mode")
    assert card.limit_text == "5 items per nation \N{MULTIPLICATION SIGN} mode"
