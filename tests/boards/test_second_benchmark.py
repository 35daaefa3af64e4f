"""A second benchmark's pages through the same views and templates as NaVAB's: DiverValue-Bench
has no averaged dimension (one score per slice, and the overall), a margin metric and many
slice values. Nothing here is written for it; the declaration drives every page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from evaluation.benchmarks.divervalue.lm_eval_utils import item_outcome
from evaluation.results import slice_key
from leaderboard.catalog.models import DatasetRelease, Item
from leaderboard.evals.models import SampleResult, Score
from tests.factories import finished_job, make_model, make_release, ranked_model, save_items

pytestmark = pytest.mark.django_db
USERS = [("u1", "United Kingdom", "Western"), ("u2", "Japan", "East Asia")]


@pytest.fixture
def dvb() -> DatasetRelease:
    release = make_release(
        "dvb-1", benchmark="divervalue", title="DiverValue-Bench demo", signal=False
    )
    save_items(
        [
            Item(
                release=release,
                uid=f"{user}-{i}",
                slices={
                    "birth_country": country,
                    "region": region,
                    "age": "25-34 years old",
                    "gender": "Female",
                    "education": "University",
                    "marital_status": "Single",
                },
                data={
                    "user_id": user,
                    "question": f"What matters most to {user}, question {i}?",
                    "answer_w": "An answer this user prefers.",
                    "answer_l": "An answer this user dislikes.",
                },
            )
            for user, country, region in USERS
            for i in range(3)
        ]
    )
    return release


def dvb_model(name: str, release: DatasetRelease, opa: float, margin: float, n: int = 40) -> None:
    job = finished_job(make_model(name), release, methods=["opa"])
    cells: list[dict[str, str]] = [{}, {"region": "Western"}, {"region": "East Asia"}]
    Score.objects.bulk_create(
        Score(
            job=job,
            slices=cell,
            slice_key=slice_key(cell),
            method="opa",
            metric=metric,
            value=value,
            n=n,
            stderr=0.01,
            ci_low=value - 0.02,
            ci_high=value + 0.02,
            parts={},
        )
        for cell in cells
        for metric, value in (("opa", opa), ("acc_0", opa), ("margin", margin))
    )


def row_names(html: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-model="([^"]+)"', html)


def test_its_board_ranks_the_overall_score_and_formats_each_metric_by_kind(client, dvb):
    dvb_model("org/low", dvb, 0.30, -0.5)
    dvb_model("org/high", dvb, 0.80, 1.25)
    url = reverse("board", args=["divervalue"])
    html = client.get(url).content.decode()
    assert row_names(html) == ["org/high", "org/low"]
    assert "<strong>80.0%</strong>" in html  # OPA is a proportion
    assert "DiverValue-Bench leaderboard" in html
    # The slice tabs are the release's regions; an "All" tab is the overall.
    assert ">East Asia</a>" in html and ">Western</a>" in html
    margin = client.get(url, {"metric": "margin"}).content.decode()
    assert "<strong>1.250</strong>" in margin  # a margin is a number, never a percentage
    assert "[1.230, 1.270]" in margin
    assert client.get(url, {"metric": "nope"}).status_code == 404
    assert client.get(url, {"nation": "us"}).status_code == 200  # not its dimension: ignored


def test_its_board_ranks_one_slice_and_leaves_small_slices_unranked(client, dvb):
    dvb_model("org/a", dvb, 0.6, 0.1)
    dvb_model("org/few", dvb, 0.9, 0.1, n=3)  # below DiverValue-Bench's min_n of 10
    html = client.get(reverse("board", args=["divervalue"]), {"region": "Western"}).content.decode()
    assert row_names(html) == ["org/a", "org/few"]
    assert 'class="badge badge-incomplete"' in html
    assert client.get(reverse("board", args=["divervalue"]), {"region": "Mars"}).status_code == 404


def test_its_items_releases_and_methodology_use_the_same_pages(client, dvb):
    browse = client.get(reverse("browse", args=["divervalue"])).content.decode()
    assert "DiverValue-Bench items" in browse and "What matters most to u1" in browse
    assert "Birth country/region" in browse
    releases = client.get(reverse("release-list", args=["divervalue"])).content.decode()
    assert "dvb-1" in releases
    methodology = client.get(reverse("methodology", args=["divervalue"])).content.decode()
    assert "Mean margin" in methodology and "unbounded" in methodology
    assert "cluster bootstrap" in methodology and "<code>user_id</code>" in methodology


def test_home_has_a_section_per_benchmark(client, dvb):
    make_release("r1", per_cell=4, signal=False)
    html = client.get(reverse("home")).content.decode()
    for slug in ("navab", "divervalue"):
        assert f'id="benchmark-{slug}"' in html
        assert f'href="{reverse("board", args=[slug])}"' in html


def test_a_model_page_has_a_section_per_benchmark_it_has_results_on(client, dvb):
    navab_release = make_release("r1", per_cell=4, signal=False)
    model = ranked_model("org/both", navab_release, 0.7)
    dvb_job = finished_job(model, dvb, methods=["opa"])
    Score.objects.create(
        job=dvb_job,
        slices={},
        slice_key="",
        method="opa",
        metric="margin",
        value=0.75,
        n=40,
        stderr=0.01,
        ci_low=0.7,
        ci_high=0.8,
        parts={},
    )
    html = client.get(reverse("model-detail", args=[model.pk])).content.decode()
    assert 'id="benchmark-navab"' in html and 'id="benchmark-divervalue"' in html
    dvb_section = html.split('id="benchmark-divervalue"')[1].split("</section>")[0]
    assert "Scores on dvb-1" in dvb_section
    assert '<th scope="row">Overall</th>' in dvb_section
    assert "<strong>0.750</strong>" in dvb_section
    only_navab = ranked_model("org/navab-only", navab_release, 0.5)
    html = client.get(reverse("model-detail", args=[only_navab.pk])).content.decode()
    assert 'id="benchmark-divervalue"' not in html


def test_the_board_api_link_answers_with_that_benchmarks_rows(client, dvb):
    navab_release = make_release("r1")
    ranked_model("org/navab-only", navab_release, 0.5)
    dvb_model("org/dvb-only", dvb, 0.6, 0.1)
    for slug, params, expected in (
        ("navab", {"nation": "us"}, "org/navab-only"),
        ("divervalue", {"region": "Western"}, "org/dvb-only"),
    ):
        html = client.get(reverse("board", args=[slug]), params).content.decode()
        downloads = html.split("Download this view:")[1].split("</p>")[0]
        link = re.search(r'<a href="([^"]+)">API</a>', downloads)
        assert link is not None
        href = link.group(1).replace("&amp;", "&")
        assert href.startswith(f"/api/benchmarks/{slug}/leaderboard/?")
        response = client.get(href)
        assert response.status_code == 200
        assert [row["model"] for row in response.json()["results"]] == [expected]


def test_its_compare_pairs_opa_the_metric_its_board_ranks_by(client, dvb):
    # OPA's per-item values are margins; each item's OPA (its share of thresholds passed) is
    # in its outcome, and the compare page pairs that, as the board ranks by OPA.
    ids = []
    for name, margin in (("org/base", 0.25), ("org/other", -0.5)):
        job = finished_job(make_model(name), dvb, methods=["opa"])
        outcome = item_outcome(margin, 1, 0.0, 1)
        SampleResult.objects.bulk_create(
            SampleResult(
                job=job,
                item=item,
                method="opa",
                value=margin,
                correct=margin > 0,
                chosen="w",
                details={"outcome": outcome},
            )
            for item in dvb.items.all()
        )
        Score.objects.create(
            job=job, slices={}, slice_key="", method="opa", metric="opa", value=outcome["opa"],
            n=dvb.items.count(), stderr=0.0, ci_low=outcome["opa"], ci_high=outcome["opa"],
        )  # fmt: skip
        ids.append(str(job.model_id))
    html = client.get(reverse("compare", args=["divervalue"]), {"models": ",".join(ids)})
    table = html.content.decode().split('id="compare-table"')[1].split("</table>")[0]
    overall = table.split('<th scope="row">All</th>')[1].split("</tr>")[0]
    assert "<td>OPA · OPA</td>" in overall
    # 0.25 passes the thresholds 0 and 0.2 of six; -0.5 passes none.
    assert '<td class="num">33.3%' in overall and "Δ -33.3%" in overall
    assert "Mean margin" not in table


def test_its_board_heading_names_the_method_and_slice_as_declared(client, dvb):
    dvb_model("org/a", dvb, 0.6, 0.1)
    html = client.get(reverse("board", args=["divervalue"]), {"region": "East Asia"}).content
    heading = html.decode().split("<h1>")[1].split("</h1>")[0]
    assert heading.endswith("· East Asia, OPA</span>")
