"""The method-agreement page (issue 22 item 3): models whose MC and AJ verdicts disagree beyond
their paired interval are flagged, per slice too, with links to the items they disagree on."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leaderboard.boards.cache import invalidate_boards
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.models import EvaluationJob, LanguageModel, SampleResult
from tests.factories import dvb_release, finished_job, make_model, ranked_model

pytestmark = pytest.mark.django_db


def verdicts(job: EvaluationJob, method: str, right: dict[str, bool] | bool) -> None:
    """Per-item results of METHOD: right everywhere, or per nation (DiverValue-Bench: per
    birth country)."""
    rows = []
    for item in job.release.items.all():
        place = item.slices.get("nation") or item.slices.get("birth_country")
        correct = right if isinstance(right, bool) else right.get(place, False)
        rows.append(
            SampleResult(job=job, item=item, method=method, value=float(correct), correct=correct)
        )
    SampleResult.objects.bulk_create(rows)


def two_models(release: DatasetRelease) -> tuple[LanguageModel, LanguageModel]:
    steady, split = make_model("org/steady"), make_model("org/split")
    job = finished_job(steady, release, methods=["mc", "aj"])
    mixed = {"cn": True, "us": False, "uk": True, "fr": False, "de": True}
    verdicts(job, "mc", mixed)
    verdicts(job, "aj", mixed)
    job = finished_job(split, release, methods=["mc", "aj"])
    verdicts(job, "mc", True)  # MC: aligned everywhere; AJ: only in the US
    verdicts(job, "aj", {"us": True})
    return steady, split


def page(client: Client, benchmark: str = "navab", **params: str) -> tuple[int, str]:
    response = client.get(reverse("agreement", args=[benchmark]), params)
    return response.status_code, response.content.decode()


def test_it_flags_the_model_whose_protocols_disagree(
    client: Client, release: DatasetRelease
) -> None:
    steady, split = two_models(release)
    status, html = page(client)
    assert status == 200
    assert "2 models scored by both; 1 flagged." in html
    assert f'<tr data-model="{split.name}" class="flagged">' in html
    assert f'<tr data-model="{steady.name}">' in html
    # The split model: MC says aligned on all 40 items, AJ on the 8 US ones.
    assert "100.0%" in html and "20.0%" in html and "-80.0 pts" in html


def test_each_slice_is_compared_and_disagreeing_items_link_to_their_results(
    client: Client, release: DatasetRelease
) -> None:
    _, split = two_models(release)
    _, html = page(client)
    section = html.split(f'id="model-{split.pk}"')[1].split("</section>")[0]
    assert section.count("<strong>flagged</strong>") == 4 + 2  # every nation but the US; both modes
    us_item = release.items.filter(slices__nation="cn").order_by("uid").first()
    assert us_item is not None
    assert reverse("item-results", args=["navab", release.version, us_item.uid]) in section


def test_the_same_verdicts_are_not_flagged(client: Client, release: DatasetRelease) -> None:
    steady, _ = two_models(release)
    _, html = page(client)
    section = html.split(f'id="model-{steady.pk}"')[1].split("</section>")[0]
    assert "flagged" not in section
    assert "The two methods give the same verdict on every triple." in section


def test_a_model_with_one_method_only_is_not_listed(
    client: Client, release: DatasetRelease
) -> None:
    job = finished_job(make_model("org/mc-only"), release, methods=["mc"])
    verdicts(job, "mc", True)
    _, html = page(client)
    assert "No ranked model has both" in html


def test_unknown_pairs_and_benchmarks_without_pairs_are_not_found(
    client: Client, release: DatasetRelease
) -> None:
    assert page(client, pair="mc-opa")[0] == 404
    assert page(client, pair="mc-aj_ref")[0] == 200
    assert page(client, "toy")[0] == 404


def test_the_board_links_to_it(client: Client, release: DatasetRelease) -> None:
    html = client.get(reverse("board", args=["navab"])).content.decode()
    assert 'id="agreement-link"' in html


def test_users_are_resampled_and_a_one_user_country_is_greyed(client: Client) -> None:
    release = dvb_release()
    job = finished_job(make_model("org/dvb"), release, methods=["opa", "paa"])
    verdicts(job, "opa", True)
    verdicts(job, "paa", {"Fiji": True})
    status, html = page(client, "divervalue")
    assert status == 200
    fiji = html.split("Birth country/region: Fiji")[1].split("</tr>")[0]
    assert "no interval" in fiji and "flagged" not in fiji


def test_the_api_gives_the_same_rows(client: Client, release: DatasetRelease) -> None:
    steady, split = two_models(release)
    response = client.get("/api/benchmarks/navab/agreement/", {"pair": "mc-aj"})
    assert response.status_code == 200
    body = response.json()
    assert body["pairs"] == ["mc-aj", "mc-aj_ref", "aj-aj_ref"]
    rows = {row["model"]: row for row in body["rows"]}
    assert rows[split.name]["overall"]["disagree"] is True
    assert rows[split.name]["overall"]["aligned_a"] == 1.0
    assert rows[split.name]["overall"]["aligned_b"] == pytest.approx(0.2)
    assert rows[split.name]["flagged_slices"] == 6
    assert rows[steady.name]["overall"]["disagree"] is False
    assert rows[steady.name]["disagreeing_items"] == []
    item = rows[split.name]["disagreeing_items"][0]
    assert item["url"].endswith(f"/items/{item['uid']}/results/")
    assert client.get("/api/benchmarks/navab/agreement/", {"pair": "x"}).status_code == 404
    assert client.get("/api/benchmarks/toy/agreement/").status_code == 404


def test_the_page_reads_each_jobs_stored_agreement_not_its_results(
    client: Client, release: DatasetRelease
) -> None:
    two_models(release)
    _, before = page(client)
    # A new board version rebuilds the page; the results it was computed from are not read.
    SampleResult.objects.all().delete()
    invalidate_boards()
    _, after = page(client)
    assert "2 models scored by both; 1 flagged." in after
    assert after == before


@pytest.mark.parametrize("url", ["/navab/agreement/", "/api/benchmarks/navab/agreement/"])
def test_it_costs_the_same_queries_for_3_and_30_models(
    client: Client, release: DatasetRelease, url: str
) -> None:
    """Every ranked model's stored agreement is read in one query, not one a model."""
    two_models(release)

    def queries() -> int:
        invalidate_boards()  # the rows are built, not read from the cache
        # The first build stores what the jobs published before stored agreement lack.
        assert client.get(url).status_code == 200
        invalidate_boards()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    ranked_model("org/other-00", release, 0.5)
    with_3 = queries()
    for i in range(1, 28):
        ranked_model(f"org/other-{i:02d}", release, 0.5)
    assert queries() == with_3
