"""The publisher's run: its released per-item judge records imported as a finished PAA job,
scored per slice by the site with its own intervals, labelled wherever the model is shown,
never ranked, and set beside the publisher's reported figures on the model's page."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from evaluation.benchmarks.divervalue import publisher_run
from leaderboard.boards.models import ReportedResult
from leaderboard.evals import lifecycle
from leaderboard.evals.models import EvaluationJob, LanguageModel, Score
from tests.factories import dvb_evaluate, dvb_release, make_model

pytestmark = pytest.mark.django_db

NAME = "gpt-4o_multi_value_judge_pairwise_polyjudge_recomputed.json"
LABEL = "(run and judged by the publisher, not run here)"


def scores(verdict: str) -> dict[str, int]:
    w, lose, m = {"W": (88, 30, 90), "L": (88, 30, 60), "TIE": (88, 70, 84)}[verdict]
    return {"score_w": w, "score_l": lose, "score_model": m}


def write_run(tmp_path: Path, release, name: str = NAME) -> Path:
    """Japan and Fiji W, Nigeria L, the United Kingdom and Brazil W on even items else TIE."""
    records = []
    for item in release.items.order_by("uid"):
        country = item.slices["birth_country"]
        even = int(item.uid.rsplit("-", 1)[1]) % 2 == 0
        verdict = {"Japan": "W", "Fiji": "W", "Nigeria": "L"}.get(country, "W" if even else "TIE")
        judge = {**scores(verdict), "hard_violations_model": []}
        judges = {
            name: {**judge, "raw": json.dumps(judge)}
            for name in ("gpt-4o", "Doubao-1.5-pro-32k", "DeepSeek-V3-Fast")
        }
        records.append(
            {"id": item.uid, "model_answer": "an answer", "judges": judges, "final_label": verdict}
        )
    records.append({"id": "not-in-release", "judges": records[0]["judges"]})
    path = tmp_path / name
    path.write_text(json.dumps(records))
    return path


def reported(tmp_path: Path, rows: list[dict]) -> None:
    path = tmp_path / "reported.json"
    path.write_text(json.dumps({"benchmark": "divervalue", "results": rows}))
    call_command("import_reported", str(path))


def score(job: EvaluationJob, metric: str, **cell: str) -> Score:
    key = "|".join(f"{k}={v}" for k, v in cell.items())
    return job.scores.get(method="paa", metric=metric, slice_key=key)


def test_it_scores_the_publishers_run_per_slice_with_the_sites_intervals(tmp_path):
    release = dvb_release()
    call_command("import_publisher_run", str(write_run(tmp_path, release)), release=release.version)
    job = EvaluationJob.objects.get()
    assert job.model.publisher_run and job.model.name == "gpt-4o"
    assert job.status == "finished" and job.methods == ["paa"]
    overall = score(job, "paa")
    # Japan 12 + Fiji 2 + half of the United Kingdom's and Brazil's 12 each: 26 of 50 items.
    assert (overall.value, overall.n) == (pytest.approx(26 / 50), 50)
    assert overall.ci_low < overall.value < overall.ci_high and overall.clusters == 13
    assert score(job, "paa", birth_country="Japan").value == 1.0
    assert score(job, "l_share", birth_country="Nigeria").value == 1.0
    assert score(job, "tie_share", region="Western").value == pytest.approx(0.5)
    assert score(job, "paa", region="Africa").value == 0.0
    assert job.samples.count() == 50
    assert job.disparities.filter(method="paa", dimension="birth_country").exists()
    report = job.repro_card["judge"]["paa"]["import"]
    assert report["unmatched"] == 1 and report["matched"] == 50 and report["relabelled"] == 0
    # Never ranked: another panel judged it, on the publisher's items.
    assert not EvaluationJob.objects.rankable().exists()
    with pytest.raises(lifecycle.JobConflict, match="run by the publisher"):
        lifecycle.rerun(job, requested_by=None)


def test_the_same_file_again_writes_nothing_and_a_changed_one_a_new_attempt(tmp_path):
    release = dvb_release()
    path = write_run(tmp_path, release)
    call_command("import_publisher_run", str(path), release=release.version)
    call_command("import_publisher_run", str(path), release=release.version)
    assert EvaluationJob.objects.count() == 1
    records = json.loads(path.read_text())
    path.write_text(json.dumps(records[:-1]))
    call_command("import_publisher_run", str(path), release=release.version)
    assert list(EvaluationJob.objects.values_list("attempt", flat=True).order_by("id")) == [1, 2]
    assert LanguageModel.objects.filter(publisher_run=True).count() == 1


def test_a_file_matching_no_item_or_no_release_is_refused(tmp_path):
    release = dvb_release()
    path = tmp_path / NAME
    path.write_text(json.dumps([{"id": "elsewhere", "judges": {"gpt-4o": {"raw": "{}"}}}]))
    with pytest.raises(CommandError, match="no record matched an item"):
        call_command("import_publisher_run", str(path), release=release.version)
    with pytest.raises(CommandError, match="no release 'nope'"):
        call_command("import_publisher_run", str(path), release="nope")
    assert not EvaluationJob.objects.exists() and not LanguageModel.objects.exists()
    make_model("gpt-4o", revision="", precision="auto")  # the site's own model of that name
    with pytest.raises(CommandError, match="already has its own model named 'gpt-4o'"):
        call_command("import_publisher_run", str(write_run(tmp_path, release)), release="dvb-1")


def zipped(tmp_path: Path, member: bytes, method: int = zipfile.ZIP_DEFLATED) -> Path:
    path = tmp_path / NAME.replace(".json", ".zip")
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr(NAME, member)
    return path


def hostile_files(tmp_path: Path) -> dict[str, Path]:
    """Files that once ended the command in a traceback."""
    files = {}
    deep = tmp_path / "deep" / NAME
    deep.parent.mkdir()
    deep.write_text("[" * 100_000 + "]" * 100_000)
    files["nested too deeply"] = deep
    digits = tmp_path / "digits" / NAME
    digits.parent.mkdir()
    digits.write_text('[{"id": "x", "judges": {"gpt-4o": {"score_w": 1' + "0" * 5000 + "}}}]")
    files["5001 digits"] = digits
    stored = tmp_path / "stored"
    stored.mkdir()
    unknown = zipped(stored, b"[]", zipfile.ZIP_STORED)
    data = bytearray(unknown.read_bytes())
    for header in (b"PK\x03\x04", b"PK\x01\x02"):  # the method field of both headers: 99
        at = data.index(header) + (8 if header == b"PK\x03\x04" else 10)
        data[at : at + 2] = (99).to_bytes(2, "little")
    unknown.write_bytes(bytes(data))
    files["compression"] = unknown
    named = tmp_path / "named"
    named.mkdir()
    odd = named / os.fsdecode(b"gpt-4o\xff_multi_value_judge_pairwise_polyjudge.json")
    odd.write_text("[]")
    files["name is not printable"] = odd
    return files


def test_a_hostile_file_is_refused_with_one_clear_error_and_nothing_written(tmp_path):
    release = dvb_release()
    for reason, path in hostile_files(tmp_path).items():
        with pytest.raises(CommandError, match=reason):
            call_command("import_publisher_run", str(path), release=release.version)
    assert not EvaluationJob.objects.exists() and not LanguageModel.objects.exists()


def test_a_zip_member_unpacking_past_the_cap_is_refused_before_it_is_read_whole(
    tmp_path, monkeypatch
):
    release = dvb_release()
    monkeypatch.setattr(publisher_run, "MAX_BYTES", 1 << 20)
    # 4 MiB that pack into a few kilobytes: the zip's stated size is not trusted either.
    path = zipped(tmp_path, b"[" + b" " * (4 << 20) + b"]")
    assert path.stat().st_size < 64 << 10
    with pytest.raises(CommandError, match="larger than 1 MiB"):
        call_command("import_publisher_run", str(path), release=release.version)
    assert not EvaluationJob.objects.exists()


def test_a_record_with_a_lone_surrogate_is_counted_unreadable_not_a_crash(tmp_path):
    release = dvb_release()
    path = write_run(tmp_path, release)
    text = path.read_text()
    first = text.index('"an answer"')
    path.write_text(text[:first] + '"bad \\ud800 answer"' + text[first + len('"an answer"') :])
    out = io.StringIO()
    call_command("import_publisher_run", str(path), release=release.version, stdout=out)
    job = EvaluationJob.objects.get()
    assert job.samples.count() == 49
    assert "1 records unreadable, e.g. (0, 'a lone surrogate" in out.getvalue()


def test_every_page_labels_the_run_and_sets_it_beside_the_readme_figures(client, tmp_path):
    release = dvb_release()
    reported(
        tmp_path,
        [
            {"release": "DiverValue-Bench, all items", "model": "GPT-4o", "method": "paa",
             "values": {"paa": 0.5, "l_share": 0.2}, "n": 50, "comparable": False},
            {"release": "the full release", "model": "GPT-4o", "method": "paa",
             "values": {"paa": 0.7133}, "n": 23763, "comparable": False},
        ],
    )  # fmt: skip
    out = io.StringIO()
    call_command(
        "import_publisher_run",
        str(write_run(tmp_path, release)),
        release=release.version,
        stdout=out,
    )
    model = LanguageModel.objects.get(publisher_run=True)
    assert set(ReportedResult.objects.values_list("site_model", flat=True)) == {model.pk}
    # The import checks the recomputed figure against the publisher's where the counts match.
    assert "PAA (W share): here 0.5200, reported 0.5000 (n=50): difference +0.0200" in (
        out.getvalue()
    )
    assert "reported 0.7133 (n=23763): not the same items" in out.getvalue()

    page = client.get(model.get_absolute_url()).content.decode()
    assert f"<h1>gpt-4o {LABEL}</h1>" in page and 'id="publisher-run"' in page
    assert "1 id not in this release (e.g. not-in-release)" in page
    assert "Type</dt>" not in page  # no base/instruct type or precision it never had here
    # Per item: the publisher's answer and judges, never the site's prompts as if they ran.
    assert "No prompt is recorded for this result." in page and "</strong> was given" not in page
    assert 'id="model-reported-table"' in page and "+2.0" in page  # 52% here vs 50% reported

    data = client.get(f"/api/models/{model.pk}/reported/").json()
    assert data["publisher_run"] and data["name"] == f"gpt-4o {LABEL}"
    same, other = sorted(data["reported"], key=lambda r: r["n"])
    assert same["label"] == "reported by the publisher, not run here"
    paa, l_share = same["metrics"]
    assert paa["difference"] == pytest.approx(0.02) and paa["site_n"] == 50
    assert l_share["difference"] == pytest.approx(12 / 50 - 0.2)
    assert other["metrics"][0]["difference"] is None
    assert "the publisher counted 23,763, the site's run 50" in other["not_compared"]
    assert client.get(f"/api/models/{model.pk}/").json()["publisher_run"] is True

    staff = User.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    align = client.post(f"/models/{model.pk}/align/", {"target": "region=Africa"})
    assert "no weights to tune" in align.content.decode()
    assert EvaluationJob.objects.count() == 1  # nothing queued
    job = client.get(model.jobs.get().get_absolute_url()).content.decode()
    assert LABEL in job and 'id="publisher-run"' in job and "Re-run" not in job
    # Its card says where it came from, with no command that would claim to reproduce it.
    assert 'id="publisher-source"' in job and NAME in job and "Exact command" not in job
    board = client.get("/divervalue/board/?method=paa").content.decode()
    assert "data-publisher-run" in board and 'data-model="gpt-4o"' not in board
    assert 'id="publisher-runs"' in board and model.get_absolute_url() in board
    api = client.get("/api/benchmarks/divervalue/leaderboard/?method=paa").json()
    assert api["publisher_runs"] == [
        {"model_id": model.pk, "name": f"gpt-4o {LABEL}", "url": model.get_absolute_url()}
    ]
    assert all(row["model_id"] != model.pk for row in api["results"])
    opa_board = client.get("/divervalue/board/?method=opa").content.decode()
    assert 'id="publisher-runs"' not in opa_board  # it has no OPA


def test_a_site_run_sits_beside_its_reported_figure_only_on_the_same_items(client, tmp_path):
    release = dvb_release()
    model = make_model("org/qwen-7b")
    job = dvb_evaluate(model, release, {c: 1.0 for c in ("United Kingdom", "Japan",
                                                         "Nigeria", "Brazil", "Fiji")})  # fmt: skip
    site = job.scores.get(metric="opa").value
    reported(
        tmp_path,
        [
            {"release": "DVB-test", "model": "Qwen-7B", "method": "opa",
             "values": {"opa": 0.2713}, "site_model": "org/qwen-7b"},
            {"release": "UF-P-4", "model": "Qwen-7B", "method": "opa",
             "values": {"opa": 0.1961}, "comparable": False, "site_model": "org/qwen-7b"},
        ],
    )  # fmt: skip
    rows = client.get(f"/api/models/{model.pk}/reported/").json()["reported"]
    by_release = {row["release"]: row for row in rows}
    assert by_release["DVB-test"]["metrics"][0]["difference"] == pytest.approx(site - 0.2713)
    assert by_release["UF-P-4"]["metrics"][0]["difference"] is None
    assert "not the same items (UF-P-4)" in by_release["UF-P-4"]["not_compared"]
    page = client.get(model.get_absolute_url()).content.decode()
    assert page.count('data-reported="Qwen-7B"') == 2 and LABEL not in page
    assert client.get("/api/models/999999/reported/").status_code == 404
    effects = client.get(f"/api/models/{model.pk}/alignment-effects/").json()
    assert effects == {"model": model.pk, "effect": None, "derived": []}
    assert client.get("/api/models/999999/alignment-effects/").status_code == 404


def test_the_demos_invented_records_are_labelled_as_demo_not_the_publishers(client, tmp_path):
    release = dvb_release(is_demo=True)
    call_command("import_publisher_run", str(write_run(tmp_path, release)), release=release.version)
    model = LanguageModel.objects.get(publisher_run=True)
    assert model.is_demo and model.display_name == (
        "gpt-4o (demo: invented records in the publisher's format, not run here)"
    )
    page = client.get(model.get_absolute_url()).content.decode()
    assert "Demo data: invented records in the publisher's format" in page
    assert LABEL not in page
