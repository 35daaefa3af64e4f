"""A model's page: scores with intervals, radar, card, job history, per-example viewer."""

from __future__ import annotations

import html as htmllib
import json
import re

import pytest
from django.urls import reverse

from leaderboard.evals.models import EvaluationJob, JobStatus, SampleResult
from tests.factories import dvb_evaluate, dvb_release, evaluate, make_model, make_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(release):
    return evaluate(make_model("org/alpha", family="alpha"), release, skill=0.6)


def page(client, job, **params):
    response = client.get(reverse("model-detail", args=[job.model_id]), params)
    assert response.status_code == 200
    return response.content.decode()


def example_uids(html: str) -> list[str]:
    return re.findall(r'<li class="example [^"]+" data-uid="([^"]+)"', html)


def test_it_shows_every_cell_with_its_interval_and_position_rates(client, job):
    html = page(client, job)
    score = job.scores.get(slice_key="mode=official|nation=de", method="aj")
    # A correct rate is a proportion: shown as a percentage, as the declaration says.
    assert f"[{score.ci_low * 100:.1f}%, {score.ci_high * 100:.1f}%]" in html
    pos, neg = score.parts["pos"]["value"], score.parts["neg"]["value"]
    assert f"n={score.n} · {pos * 100:.1f}% / {neg * 100:.1f}%" in re.sub(r"<[^>]+>", "", html)
    grid = html.split('id="score-grid"')[1].split("</table>")[0]
    assert grid.count('<th scope="row">') == 5
    assert grid.count("Answer judgement") == 2 and grid.count("Multiple choice") == 2


def test_the_radar_covers_the_nations(client, job):
    html = page(client, job)
    data = json.loads(
        re.search(
            r'id="chart-radar-navab" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )
    assert len(data["data"]) == 4  # one trace per mode x method
    assert data["data"][0]["type"] == "scatterpolar"
    assert data["data"][0]["theta"][:5] == [
        "China",
        "United States",
        "United Kingdom",
        "France",
        "Germany",
    ]


def test_the_card_shows_the_run_and_its_exact_commands(client, job):
    html = htmllib.unescape(page(client, job))
    card = job.repro_card
    assert card["command"] in html
    for command in card["lm_eval_commands"]:
        assert command in html
    assert "lm_eval run --model hf --model_args pretrained=org/alpha," in html
    assert f"revision={job.model.revision}" in html
    assert "python -m evaluation export-tasks --benchmark navab /srv/navab/releases/r1" in html
    for label in ("NVIDIA H100 80GB HBM3", "bfloat16", "0.4.13", "1234"):
        assert label in html


def test_job_history_lists_every_attempt(client, job):
    EvaluationJob.objects.create(
        model=job.model,
        release=job.release,
        attempt=2,
        status=JobStatus.FAILED,
        failure_kind="infra",
    )
    html = page(client, job)
    history = html.split('id="job-history"')[1].split("</table>")[0]
    assert history.count("<tr") == 3  # header + two jobs
    assert "status-failed" in history and "status-finished" in history


def test_the_example_viewer_filters_wrong_answers_by_nation_mode_and_method(client, job):
    wrong = SampleResult.objects.filter(
        job=job,
        correct=False,
        item__slices__nation="us",
        item__slices__mode="quoted",
        method="mc",
    )
    expected = sorted(s.item.uid for s in wrong.select_related("item"))
    assert expected, "the factory's answers should include wrong ones"
    html = page(client, job, wrong="1", nation="us", mode="quoted", method="mc")
    assert sorted(example_uids(html)) == expected
    assert "chose S ✓" not in html.split('id="examples-list"')[1]
    sample = wrong.select_related("item").first()
    assert htmllib.escape(sample.item.data["question"]) in html
    assert htmllib.escape(sample.item.data["reverse_statement"]) in html
    assert "A: -" in html and "B: -" in html  # log-likelihoods


def test_the_example_viewer_filters_by_topic(client, job):
    html = page(client, job, topic="security", method="aj")
    uids = example_uids(html)
    topics = set(
        SampleResult.objects.filter(job=job, item__uid__in=uids).values_list(
            "item__data__topic", flat=True
        )
    )
    assert uids and topics == {"security"}
    assert 'value="security"' in html  # the topic list


def test_examples_are_paginated_and_keep_their_filters(client, job):
    html = page(client, job, method="mc")
    assert len(example_uids(html)) == 25
    assert 'href="?method=mc&amp;page=2#examples"' in html
    assert len(example_uids(page(client, job, method="mc", page=2))) == 15  # 40 MC items


def test_a_model_without_results_on_the_release_says_so(client, release):
    model = make_model("org/waiting")
    html = client.get(reverse("model-detail", args=[model.pk])).content.decode()
    assert "No finished evaluation of this model on release r1 yet" in html


def test_other_releases_are_reachable(client, job):
    older = make_release("r0", per_cell=4, signal=False, days_ago=30)
    evaluate(job.model, older, skill=0.9, samples=False)
    html = page(client, job)
    assert 'href="?release=r0"' in html
    assert "Scores on r0" in page(client, job, release="r0")


def test_unknown_models_are_not_found(client, db):
    assert client.get(reverse("model-detail", args=[999])).status_code == 404


def test_a_divervalue_card_names_its_release_and_the_items_files_hash():
    """DiverValue-Bench's harness records the release's path and items.jsonl hash, no version:
    the card must still say which release it ran on rather than leave the field blank."""
    from django.test import Client

    release = dvb_release("dvb-card")
    model = make_model("org/dvb-carded")
    job = dvb_evaluate(
        model,
        release,
        {c: 1.0 for c in release.items.values_list("slices__birth_country", flat=True)},
    )
    job.repro_card["release"] = {"path": "/srv/releases/dvb-card", "items_sha256": "ab" * 32}
    job.save(update_fields=["repro_card"])
    page = Client().get(model.get_absolute_url()).content.decode()
    card = page[page.index("<dt>Release</dt>") :][:400]
    assert "dvb-card" in card
    assert 'title="sha256 of items.jsonl">' + "ab" * 32 in card


def test_per_example_details_show_counts_as_integers_and_measures_to_four_places():
    from django.test import Client

    release = dvb_release("dvb-details")
    model = make_model("org/dvb-detailed")
    countries = release.items.values_list("slices__birth_country", flat=True)
    job = dvb_evaluate(model, release, dict.fromkeys(countries, 1.0))
    sample = job.samples.order_by("item_id", "method").first()
    sample.details |= {
        "tokens": {"answer_w": 96, "answer_l": 71},
        "loglikelihoods": {"answer_w": -592.28494, "answer_l": -437.3},
    }
    sample.save(update_fields=["details"])
    page = Client().get(model.get_absolute_url()).content.decode()
    assert "answer_w: 96" in page and "answer_l: 71" in page and "96.0000" not in page
    assert "answer_w: -592.2849" in page and "answer_l: -437.3000" in page
