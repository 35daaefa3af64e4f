"""The judges page (issue 22 item 2): each judge's own verdicts and ranks, Krippendorff's alpha
with an interval, and how often the panel's verdict flips when one judge is left out."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from evaluation.benchmarks.divervalue.panel import PaaPanel
from evaluation.benchmarks.judge_robustness import krippendorff_alpha, leave_one_out, ranks
from leaderboard.boards.cache import invalidate_boards
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals import sample_details
from leaderboard.evals.models import EvaluationJob, LanguageModel, SampleResult
from tests.factories import dvb_release, finished_job, make_model

pytestmark = pytest.mark.django_db

SCORES = {"W": (90, 80, 40), "L": (50, 80, 40), "TIE": (75, 80, 70)}


def record(judge: str, vote: str) -> dict[str, object]:
    if vote == "ABSTAIN":  # the judge's output could not be read
        return {"judge": judge, "vote": vote, "scores": None, "hard_violation": None}
    model, winner, loser = SCORES[vote]
    return {
        "judge": judge,
        "vote": vote,
        "scores": {"model": model, "w": winner, "l": loser},
        "hard_violation": False,
    }


def paa_results(job: EvaluationJob, votes_of: Callable[[int], dict[str, str]]) -> None:
    rows = []
    for index, item in enumerate(job.release.items.order_by("uid")):
        votes = votes_of(index)
        details = {"judges": [record(j, v) for j, v in votes.items()]}
        verdict = PaaPanel().verdict(details)
        rows.append(
            SampleResult.with_long(
                {},
                details,
                job=job,
                item=item,
                method="paa",
                value=float(verdict == "W"),
                correct=verdict == "W",
                chosen=verdict,
            )
        )
    SampleResult.store(job.pk, rows)


def two_models(release: DatasetRelease) -> tuple[LanguageModel, LanguageModel]:
    swayed, unanimous = make_model("org/swayed"), make_model("org/unanimous")
    # j1 and j2 say W, j3 says L on every answer: the panel says W, but without j1 it cannot.
    paa_results(
        finished_job(swayed, release, methods=["paa"]),
        lambda i: {"j1": "W", "j2": "W", "j3": "L"},
    )
    # All three agree: W on even answers, L on odd ones.
    paa_results(
        finished_job(unanimous, release, methods=["paa"]),
        lambda i: dict.fromkeys(("j1", "j2", "j3"), "W" if i % 2 == 0 else "L"),
    )
    return swayed, unanimous


def test_unanimous_judges_have_alpha_one_and_no_flips() -> None:
    votes = [dict.fromkeys(("a", "b"), "W" if i % 2 else "L") for i in range(40)]
    found = krippendorff_alpha(votes, ["a", "b"], seed=1)
    assert found.alpha == pytest.approx(1.0) and found.n == 40
    assert found.ci == (pytest.approx(1.0), pytest.approx(1.0))
    assert krippendorff_alpha(votes, ["a"], seed=1).alpha is None
    same = [dict.fromkeys(("a", "b"), "W") for _ in range(5)]
    assert krippendorff_alpha(same, ["a", "b"], seed=1).alpha is None


def test_one_judge_deciding_is_counted_per_judge() -> None:
    details = [{"judges": [record("j1", "W"), record("j2", "W"), record("j3", "L")]}] * 4
    found = leave_one_out(details, ["j1", "j2", "j3"], PaaPanel())
    assert found is not None
    assert found.flips == {"j1": 1.0, "j2": 1.0, "j3": 0.0}
    assert found.any_flip == 1.0
    assert leave_one_out(details, ["j1"], PaaPanel()) is None


def test_ranks_share_places_on_ties() -> None:
    assert ranks({"a": 0.5, "b": 0.9, "c": 0.5, "d": None}) == {"a": 2, "b": 1, "c": 2, "d": None}


def test_the_page_shows_each_judge_its_ranks_alpha_and_flips(client: Client) -> None:
    release = dvb_release()
    swayed, unanimous = two_models(release)
    response = client.get(reverse("judges", args=["divervalue"]))
    assert response.status_code == 200
    html = response.content.decode()
    swayed_row = html.split(f'<tr data-model="{swayed.name}" class="rank-moves">')[1].split(
        "</tr>"
    )[0]
    # The panel ranks it first (100% W); j3 alone ranks it second (0% W).
    assert "100.0% (1)" in swayed_row and "0.0% (2)" in swayed_row
    assert swayed_row.rstrip().endswith('<td class="num">100.0%</td>')  # flips without one judge
    # Its panel ranks it second (50% W), j3 alone first: its rank moves too.
    unanimous_row = html.split(f'<tr data-model="{unanimous.name}" class="rank-moves">')[1]
    unanimous_row = unanimous_row.split("</tr>")[0]
    assert '1.00 <span class="muted">[1.00, 1.00]</span>' in unanimous_row
    assert unanimous_row.rstrip().endswith('<td class="num">0.0%</td>')
    summary = html.split('id="judges-summary"')[1].split("</dl>")[0]
    assert "<code>j1</code>, <code>j2</code>, <code>j3</code>" in summary
    assert "95% CI" in summary and "without <code>j1</code>: 50.0%" in summary
    assert 'data-chart="chart-judges"' in html


def test_the_page_opens_the_files_of_judged_jobs_only(client: Client, monkeypatch) -> None:
    """A model ranked on the release without results of the judged method has no judges'
    records: its job's file (OPA's, say) is not read (750 files a page at 1,000 models)."""
    release = dvb_release()
    swayed, unanimous = two_models(release)
    other = finished_job(make_model("org/opa-only"), release, methods=["opa"])
    SampleResult.store(
        other.pk,
        [
            SampleResult.with_long(
                {}, {"outcome": {"opa": 1.0}}, job=other, item=item, method="opa", value=1.0
            )
            for item in release.items.all()
        ],
    )
    opened: list[int] = []
    read_job = sample_details.read_job
    monkeypatch.setattr(
        sample_details,
        "read_job",
        lambda job_id, **kw: opened.append(job_id) or read_job(job_id, **kw),
    )
    invalidate_boards()
    assert client.get(reverse("judges", args=["divervalue"])).status_code == 200
    judged = {swayed.jobs.get().pk, unanimous.jobs.get().pk}
    assert set(opened) == judged


def test_a_method_with_one_judge_says_so_and_points_to_the_agreement_page(
    client: Client, release: DatasetRelease
) -> None:
    response = client.get(reverse("judges", args=["navab"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="single-judge"' in html
    assert "pair=aj-aj_ref" in html


def test_a_benchmark_without_judged_methods_or_an_unknown_one_is_not_found(
    client: Client, release: DatasetRelease
) -> None:
    assert client.get(reverse("judges", args=["navab"]), {"method": "mc"}).status_code == 404
    assert client.get(reverse("judges", args=["toy"])).status_code == 404


def test_the_api_gives_the_same_numbers(client: Client, release: DatasetRelease) -> None:
    swayed, _ = two_models(dvb_release())
    body = client.get("/api/benchmarks/divervalue/judges/").json()
    assert (body["method"], body["panel"], body["judges"]) == ("paa", True, ["j1", "j2", "j3"])
    assert body["flips"]["by_judge"] == {"j1": 0.5, "j2": 0.5, "j3": 0.0}
    row = next(r for r in body["rows"] if r["model"] == swayed.name)
    assert (row["panel"], row["panel_rank"]) == (1.0, 1)
    assert row["by_judge"]["j3"] == {"aligned": 0.0, "rank": 2}
    assert client.get("/api/benchmarks/navab/judges/").json()["panel"] is False
    assert client.get("/api/benchmarks/navab/judges/", {"method": "mc"}).status_code == 404


def test_the_resampled_alpha_is_krippendorffs_on_each_replicate() -> None:
    import krippendorff
    import numpy as np

    from evaluation.benchmarks.judge_robustness import _alphas, _coincidences

    rng = np.random.default_rng(7)
    matrix = rng.integers(0, 3, size=(3, 50)).astype(float)
    matrix[0, :5] = np.nan  # some abstentions
    library = krippendorff.alpha(
        reliability_data=matrix, value_domain=[0, 1, 2], level_of_measurement="nominal"
    )
    ours = _alphas(_coincidences(matrix, 3).sum(axis=0)[None])[0]
    assert ours == pytest.approx(library)
    # A resample (items drawn with replacement) is the weighted sum of their coincidences.
    picks = rng.integers(0, 50, size=50)
    resampled = krippendorff.alpha(
        reliability_data=matrix[:, picks], value_domain=[0, 1, 2], level_of_measurement="nominal"
    )
    weights = np.bincount(picks, minlength=50).astype(float)
    assert _alphas(np.einsum("u,uij->ij", weights, _coincidences(matrix, 3))[None])[0] == (
        pytest.approx(resampled)
    )


def test_unreadable_judges_give_no_alpha_and_no_flip_share(client: Client) -> None:
    release = dvb_release()
    job = finished_job(make_model("org/mute"), release, methods=["paa"])
    paa_results(job, lambda i: dict.fromkeys(("j1", "j2"), "ABSTAIN"))
    unreadable = [{"judges": [{"judge": "j1", "vote": "ABSTAIN", "scores": None}] * 2}]
    assert leave_one_out(unreadable, ["j1", "j2"], PaaPanel()) is None
    html = client.get(reverse("judges", args=["divervalue"])).content.decode()
    summary = html.split('id="judges-summary"')[1].split("</dl>")[0]
    assert "no answer has two readable votes" in summary
    assert "the panel decided no answer" in summary
    assert "0.0%" not in html.split('id="judges-board"')[1]


def test_the_board_summarises_its_judges_and_links_their_page(client: Client) -> None:
    release = dvb_release()
    two_models(release)
    response = client.get(reverse("board", args=["divervalue"]), {"method": "paa"})
    html = response.content.decode()
    line = html.split('id="judge-summary"')[1].split("</p>")[0]
    # As the judges page: pooled alpha with its interval; j1 or j2 alone decides the swayed
    # model's answers (half of all answers); both models rank elsewhere under j3.
    board = client.get(reverse("judges", args=["divervalue"])).content.decode()
    alpha = board.split("Agreement (alpha)")[1].split("<dd>")[1].split(" ")[0]
    assert f"(Krippendorff's alpha) {alpha}" in line and "95% CI" in line
    assert "changes the panel's verdict on 50.0% of the" in line
    assert "2 of 2 ranked models would rank elsewhere under some single judge" in line
    assert "/divervalue/judges/?release=" in line and "method=paa" in line
    body = client.get("/api/benchmarks/divervalue/leaderboard/", {"method": "paa"}).json()
    judging = body["judging"]
    assert (judging["panel"], judging["judges"], judging["models"]) == (
        True,
        ["j1", "j2", "j3"],
        2,
    )
    assert (judging["flip_share"], judging["rank_moves"], judging["note"]) == (0.5, 2, "")
    assert judging["alpha"] == pytest.approx(float(alpha), abs=5e-4)
    assert judging["alpha_ci"][0] <= judging["alpha"] <= judging["alpha_ci"][1]
    # A method no judge decides has nothing to summarise.
    opa = client.get("/api/benchmarks/divervalue/leaderboard/", {"method": "opa"}).json()
    assert opa["judging"] is None
    opa_page = client.get(reverse("board", args=["divervalue"]), {"method": "opa"})
    assert 'id="judge-summary"' not in opa_page.content.decode()


def test_the_board_says_why_unreadable_judges_give_no_numbers(client: Client) -> None:
    release = dvb_release()
    model = make_model("org/unread")
    paa_results(
        finished_job(model, release, methods=["paa"]),
        lambda i: dict.fromkeys(("j1", "j2", "j3"), "ABSTAIN"),
    )
    html = client.get(reverse("board", args=["divervalue"]), {"method": "paa"}).content.decode()
    line = html.split('id="judge-summary"')[1].split("</p>")[0]
    assert "Krippendorff" not in line and "changes the panel's verdict" not in line
    assert "no alpha: no answer has two readable votes" in line
    assert "no flip share: the panel decided no" in line
    # Nothing ranks without verdicts: no count of models that "would not move".
    assert "rank elsewhere" not in line and "no ranks: no model has" in line
    page = client.get(reverse("judges", args=["divervalue"])).content.decode()
    assert 'id="judges-board"' in page and 'data-chart="chart-judges"' not in page  # no empty axes
    judging = client.get("/api/benchmarks/divervalue/leaderboard/", {"method": "paa"}).json()[
        "judging"
    ]
    assert (judging["alpha"], judging["flip_share"], judging["ranked"]) == (None, None, 0)


def test_a_board_judged_by_one_judge_says_there_is_no_panel(
    client: Client, release: DatasetRelease
) -> None:
    html = client.get(reverse("board", args=["navab"]), {"method": "aj_ref"}).content.decode()
    line = html.split('id="judge-summary"')[1].split("</p>")[0]
    assert "one judge per run" in line and "pair=aj-aj_ref" in line
    assert "/navab/judges/" not in line  # no judges' page to see beyond the one judge
    body = client.get("/api/benchmarks/navab/leaderboard/", {"method": "aj_ref"}).json()
    assert body["judging"]["panel"] is False and body["judging"]["alpha"] is None


def test_a_snapshot_of_a_judged_board_keeps_its_judges_line(staff_client: Client) -> None:
    release = dvb_release()
    two_models(release)
    freeze = reverse("snapshot-freeze", args=["divervalue"])
    response = staff_client.post(f"{freeze}?method=paa")
    assert response.status_code == 302
    snapshot = staff_client.get(response["Location"]).content.decode()
    line = snapshot.split('id="snapshot-judging"')[1].split("</dd>")[0]
    assert "Krippendorff's alpha" in line and "2 of 2 ranked models" in line
    live = staff_client.get("/api/benchmarks/divervalue/leaderboard/", {"method": "paa"}).json()
    frozen = staff_client.get(response["Location"].rstrip("/") + ".json").json()
    assert frozen["judging"] == live["judging"]


def test_the_publishers_runs_have_their_own_judges_board(client: Client) -> None:
    release = dvb_release()
    site = make_model("org/site")
    paa_results(
        finished_job(site, release, methods=["paa"]),
        lambda i: dict.fromkeys(("j1", "j2", "j3"), "W"),
    )
    publisher = make_model("Claude-Sonnet-4.5")
    LanguageModel.objects.filter(pk=publisher.pk).update(publisher_run=True)
    # The publisher's panel: two judges agree, a third says L on every other answer.
    paa_results(
        finished_job(publisher, release, methods=["paa"]),
        lambda i: {"gpt": "W", "claude": "W", "deepseek": "L" if i % 2 else "W"},
    )
    html = client.get(reverse("judges", args=["divervalue"])).content.decode()
    site_part, publisher_part = html.split('id="publisher-judges"')
    # Apart: the site's panel and rows above, the publisher's below, never mixed.
    assert site.name in site_part and publisher.name not in site_part.split("<h1")[1]
    assert "<code>deepseek</code>" in publisher_part and "<code>j1</code>" not in publisher_part
    assert publisher.name in publisher_part and 'data-model="org/site"' not in publisher_part
    assert "without <code>deepseek</code>: 0.0%" in publisher_part
    assert 'data-chart="chart-publisher-judges"' in publisher_part
    body = client.get("/api/benchmarks/divervalue/judges/").json()
    assert [r["model"] for r in body["rows"]] == ["org/site"]
    runs = body["publisher_runs"]
    assert runs["judges"] == ["claude", "deepseek", "gpt"]
    assert [r["model_id"] for r in runs["rows"]] == [publisher.pk]
    assert runs["rows"][0]["by_judge"]["deepseek"]["aligned"] == 0.5
    # Without publisher's runs there is no such section.
    LanguageModel.objects.filter(pk=publisher.pk).delete()
    invalidate_boards()
    html = client.get(reverse("judges", args=["divervalue"])).content.decode()
    assert 'id="publisher-judges"' not in html
    assert client.get("/api/benchmarks/divervalue/judges/").json()["publisher_runs"] is None
