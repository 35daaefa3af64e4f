"""The publishers' reported results: imported from a file with their sources, shown beside the
board (labelled, never ranked), side by side with the site's score of the same model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from evaluation.benchmarks import get_benchmark
from leaderboard.boards.models import ReportedResult
from leaderboard.boards.reported import ReportedFileError, import_reported
from leaderboard.catalog.models import Benchmark
from tests.factories import dvb_evaluate, dvb_release, make_model

pytestmark = pytest.mark.django_db

SHIPPED = get_benchmark("divervalue").demo_dir.parent / "reported.json"
# The publisher's UF-P-4 figures belong to DiverValue-Bench's out-of-domain set's own board.
SHIPPED_OOD = get_benchmark("ufp4").demo_dir.parent / "reported.json"
BOARD = reverse("board", args=["divervalue"])
API = "/api/benchmarks/divervalue/leaderboard/"
COMMIT = "7ccb196eba10fd8eb506bd08f5d163adb472a6ef"


def write(tmp_path: Path, results: list[dict], benchmark: str = "divervalue") -> Path:
    path = tmp_path / "reported.json"
    path.write_text(json.dumps({"benchmark": benchmark, "results": results}))
    return path


def test_the_shipped_file_holds_the_publishers_readme_figures_with_their_source():
    assert import_reported(SHIPPED) == (13, 0)
    assert import_reported(SHIPPED) == (0, 13)  # a re-import updates, never duplicates
    claude = ReportedResult.objects.get(model_name="Claude-Sonnet-4.5", method="paa")
    assert claude.values == {"paa": 0.7927, "l_share": 0.1111, "tie_share": 0.0962}
    assert claude.n == 23763 and claude.source_commit == COMMIT
    assert claude.source_url.startswith("https://github.com/YaoLiang2023/DiverValue-Bench/")
    assert ReportedResult.objects.get(model_name="DeepSeek-V3").n == 23754
    tuned = ReportedResult.objects.get(
        model_name="Qwen-14B, LoRA + DPO on DVB-train", release_name="DVB-test"
    )
    assert tuned.values == {"opa": 0.888} and tuned.spreads == {"opa": 0.0356}
    assert not ReportedResult.objects.filter(release_name__startswith="UF-P-4").exists()
    assert import_reported(SHIPPED_OOD) == (8, 0)
    out_of_domain = ReportedResult.objects.get(model_name="LLaMA-2-7B", benchmark__slug="ufp4")
    assert out_of_domain.values == {"opa": 0.1817} and out_of_domain.comparable
    assert out_of_domain.release_name == "UF-P-4, four subsets pooled"


def test_a_bad_file_is_refused_whole_naming_each_bad_row(tmp_path):
    good = {"release": "DVB-test", "model": "A", "method": "opa", "values": {"opa": 0.3}}
    rows = [
        good,
        {**good, "model": "B", "values": {"opa": 27.13}},  # a percentage typed for a share
        {**good, "model": "C", "method": "mc"},
        {**good, "model": "D", "slices": {"nation": "us"}},
    ]
    with pytest.raises(ReportedFileError) as raised:
        import_reported(write(tmp_path, rows))
    message = str(raised.value)
    assert "row 1: opa: 27.13 is outside the metric's scale" in message
    assert "row 2: method 'mc' is not one of divervalue's" in message
    assert "row 3: 'nation' is not a slice dimension of divervalue" in message
    assert not ReportedResult.objects.exists()
    with pytest.raises(CommandError, match="unknown benchmark 'nope'"):
        call_command("import_reported", str(write(tmp_path, [good], benchmark="nope")))


def test_staff_edits_are_checked_against_the_declaration():
    result = ReportedResult(
        benchmark=Benchmark.objects.get(slug="divervalue"),
        release_name="DVB-test",
        model_name="Qwen-7B",
        method="opa",
        values={"opa": 86.18},
    )
    with pytest.raises(ValidationError, match="outside the metric's scale"):
        result.full_clean()


@pytest.fixture
def board_data(db):
    release = dvb_release(users_per_country=4, items_per_user=5)
    margins = {"United Kingdom": 5.0, "Japan": 5.0, "Nigeria": 5.0, "Brazil": 5.0, "Fiji": 5.0}
    site = make_model("org/qwen-7b")
    dvb_evaluate(site, release, margins)
    import_reported(SHIPPED)
    for reported in ReportedResult.objects.filter(model_name="Qwen-7B"):
        reported.site_model = site
        reported.save()
    return release, site


def test_the_board_shows_them_apart_labelled_and_never_ranked(client, board_data):
    page = client.get(BOARD, {"method": "paa"}).content.decode()
    section = page[page.index('id="reported"') :]
    assert "Reported by the publisher, not run here" in section
    for name in ("Claude-Sonnet-4.5", "GPT-4o", "Mistral-Medium-3", "Doubao-1.5-Pro"):
        assert f'data-reported="{name}"' in section
        assert f'data-model="{name}"' not in page  # not a board row
    assert "79.27%" in section and "L share 11.11%, TIE share 9.62%" in section

    opa = client.get(BOARD, {"method": "opa"}).content.decode()
    reported = opa[opa.index('id="reported"') :]
    assert reported.count("data-reported=") == 8  # DVB-test, base and tuned (UF-P-4: its board)
    assert "86.18% <span" in reported and "± 1.87" in reported


def test_the_sites_score_of_the_same_model_stands_beside_it_with_the_difference(client, board_data):
    body = client.get(API, {"method": "opa"}).json()
    site_opa = body["results"][0]["score"]
    assert [r["rank"] for r in body["results"]] == [1]  # the reported rows are not ranked
    reported = {(r["model"], r["release"]): r for r in body["reported"]}
    in_domain = reported[("Qwen-7B", "DVB-test")]
    assert in_domain["label"] == "reported by the publisher, not run here"
    assert in_domain["site_value"] == pytest.approx(site_opa)
    assert in_domain["difference"] == pytest.approx(site_opa - 0.2713)
    assert not any(release.startswith("UF-P-4") for _, release in reported)
    assert reported[("LLaMA-2-7B", "DVB-test")]["site_value"] is None

    page = client.get(BOARD, {"method": "opa"}).content.decode()
    row = page[page.index('data-reported="Qwen-7B"') :]
    row = row[: row.index("</tr>")]
    assert f"{(site_opa - 0.2713) * 100:+.1f} pts" in row


def test_the_api_lists_every_reported_result_with_its_source(client):
    import_reported(SHIPPED)
    body = client.get("/api/benchmarks/divervalue/reported/", {"method": "paa"}).json()
    assert len(body["results"]) == 5
    assert {r["source"]["commit"] for r in body["results"]} == {COMMIT}
    assert client.get("/api/benchmarks/navab/reported/").json()["results"] == []
    assert client.get("/api/benchmarks/nope/reported/").status_code == 404


def test_the_demo_ships_the_publishers_figures(db):
    call_command("demo", "--no-models")
    assert ReportedResult.objects.filter(benchmark__slug="divervalue").count() == 13
    assert ReportedResult.objects.filter(benchmark__slug="ufp4").count() == 8
