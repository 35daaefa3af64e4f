"""PAA end to end: the tiny model answers through lm-eval, a panel of two scripted judges
behind a real chat endpoint and one tiny open judge scores the answers, the verdicts become
stored Scores and per-item results, and the pages show every judge's raw output."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.urls import reverse

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.divervalue.judges import JudgeSpec
from evaluation.benchmarks.divervalue.release import load_items, select_items, write_items
from evaluation.local_models import public_name
from leaderboard.catalog.importer import import_release
from leaderboard.evals.models import EvaluationJob, JobStatus, LanguageModel, SampleResult, Score
from leaderboard.evals.runner import store_results
from tests.evaluation.conftest import cpu_spec
from tests.openai_server import OpenAIServer
from tests.scripted_judge import REASON, case_of, chat_completions
from tests.tiny_models import build_tiny_model

pytestmark = pytest.mark.slow  # its runs go through lm-eval, which starts processes

BENCHMARK = get_benchmark("divervalue")
LIMIT = 10


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # It judges too: a judge prompt (profile, question, both references, the answer) is about
    # 1,600 tokens, and a judge's context must hold it whole (a longer one is left out).
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-gpt2", n_positions=2048)


@pytest.fixture(scope="module")
def paa_run(tiny_model, tmp_path_factory):
    release = tmp_path_factory.mktemp("dvb")
    write_items(release, load_items(BENCHMARK.demo_dir))
    out = tmp_path_factory.mktemp("paa-run")
    with OpenAIServer(tiny_model, routes={"/v1/chat/completions": chat_completions}) as server:
        url = server.url.replace("/v1/completions", "/v1/chat/completions")
        judges = [
            JudgeSpec(name="strict", kind="openai-chat", model="strict-judge", base_url=url),
            JudgeSpec(name="chatty", kind="openai-chat", model="chatty-judge", base_url=url),
            JudgeSpec(name="tiny", model=str(tiny_model), dtype="float32", max_gen_toks=12),
        ]
        result = BENCHMARK.evaluate(
            cpu_spec(tiny_model),
            release,
            methods=["paa"],
            judges=judges,
            device="cpu",
            limit=LIMIT,
            max_gen_toks=12,
            out_dir=out,
        )
    items = select_items(release, limit=LIMIT)
    return result, out, {item["uid"]: case_of(item["question"]) for item in items}


# Two readable votes decide W and L; in case TIE only the strict judge reads (TIE) and two
# abstain (the chatty judge's 150, the tiny judge's noise): the item abstains.
EXPECTED = {"W": "W", "L": "L", "TIE": "ABSTAIN"}


def test_the_panel_verdicts_follow_each_judges_raw_output(paa_run):
    result, _, cases = paa_run
    samples = {s.uid: s for s in result.samples}
    assert samples.keys() == cases.keys()
    assert set(cases.values()) == {"W", "L", "TIE"}  # the items cover every case
    for uid, case in cases.items():
        sample = samples[uid]
        assert sample.chosen == EXPECTED[case], uid
        assert sample.value == float(case == "W")
        strict, chatty, tiny = sample.details["judges"]
        assert (strict["judge"], strict["parse"], strict["vote"]) == ("strict", "strict", case)
        assert chatty["parse"] == ("unparsable" if case == "TIE" else "fallback")
        assert "<think>" in chatty["raw"]
        assert tiny["parse"] == "unparsable" and tiny["vote"] == "ABSTAIN" and tiny["raw"]
        assert sample.details["answer"] == result.answers[uid]


def test_the_shares_and_unparsable_counts_are_scored_over_all_items(paa_run):
    result, _, cases = paa_run
    overall = {r.metric: r for r in result.scores if r.method == "paa" and not r.slices}
    counts = Counter(EXPECTED[c] for c in cases.values())
    assert overall["paa"].value == pytest.approx(counts["W"] / LIMIT)
    assert overall["l_share"].value == pytest.approx(counts["L"] / LIMIT)
    assert overall["abstain_share"].value == pytest.approx(counts["ABSTAIN"] / LIMIT)
    assert overall["tie_share"].value == 0.0
    unparsable = (LIMIT + counts["ABSTAIN"]) / (3 * LIMIT)  # tiny always, chatty on TIE
    assert overall["unparsable"].value == pytest.approx(unparsable)
    for row in overall.values():
        assert row.n == LIMIT and row.ci_low <= row.value <= row.ci_high
    assert {k for r in result.scores for k in r.slices} == {d.key for d in BENCHMARK.slices}
    card = result.card.judge["paa"]
    assert [j["name"] for j in card["judges"]] == ["strict", "chatty", "tiny"]
    assert card["judges"][2]["revision"].startswith("local-")  # the directory's fingerprint
    assert card["unparsable_outputs"] == {
        "strict": 0,
        "chatty": counts["ABSTAIN"],
        "tiny": LIMIT,
    }


@pytest.mark.slow
def test_stock_lm_eval_on_the_exported_answer_task_reproduces_the_answers(paa_run):
    result, out, _ = paa_run
    command = next(c for c in result.card.lm_eval_commands if "divervalue_paa_answer" in c)
    argv = shlex.split(command)
    subprocess.run([sys.executable, "-m", "lm_eval", *argv[1:]], check=True, capture_output=True)
    [samples_file] = (out / "paa").glob("**/samples_divervalue_paa_answer_*.jsonl")
    stock = {
        json.loads(line)["doc"]["uid"]: json.loads(line)["filtered_resps"][0].strip()
        for line in samples_file.read_text().splitlines()
    }
    assert stock == result.answers


@pytest.mark.slow
def test_stock_lm_eval_on_the_exported_judge_task_reproduces_the_open_judges_raw_output(paa_run):
    result, out, _ = paa_run
    command = next(c for c in result.card.lm_eval_commands if "divervalue_paa_judge_2" in c)
    argv = shlex.split(command)
    subprocess.run([sys.executable, "-m", "lm_eval", *argv[1:]], check=True, capture_output=True)
    [samples_file] = (out / "paa").glob("**/samples_divervalue_paa_judge_2_*.jsonl")
    stock = {
        json.loads(line)["doc"]["uid"]: json.loads(line)["filtered_resps"][0]
        for line in samples_file.read_text().splitlines()
    }
    ours = {s.uid: s.details["judges"][2]["raw"] for s in result.samples}
    assert stock == ours


@pytest.mark.django_db
def test_stored_verdicts_and_raw_judge_outputs_show_on_the_item_and_model_pages(
    paa_run, client, owner, tmp_path
):
    result, _, cases = paa_run
    release = published_demo()
    model = LanguageModel.objects.create(
        name="/models/tiny", revision="local-tiny", precision="float32", submitter=owner
    )
    job = EvaluationJob.objects.create(
        model=model, release=release, status=JobStatus.RUNNING, celery_task_id="token-1",
        methods=["paa"],
    )  # fmt: skip
    assert store_results(job, "token-1", result, tmp_path)
    stored = {s.metric: s.value for s in Score.objects.filter(job=job, method="paa", slices={})}
    assert stored["paa"] == pytest.approx(Counter(cases.values())["W"] / LIMIT)
    uid = next(u for u, c in cases.items() if c == "W")
    sample = SampleResult.objects.get(job=job, item__uid=uid)
    assert sample.chosen == "W" and len(sample.details["judges"]) == 3

    page = client.get(
        reverse("item-results", args=["divervalue", release.version, uid])
    ).content.decode()
    assert REASON in page and "strict" in page and "fallback" in page
    assert "unparsable" in page and sample.details["judges"][2]["raw"][:20] in page
    model_page = client.get(model.get_absolute_url()).content.decode()
    assert REASON in model_page
    # The card names every judge of the panel, with its unparsable count.
    assert "PAA judges" in model_page and "chatty-judge" in model_page
    assert f"{LIMIT} of {LIMIT} outputs unparsable" in model_page  # the tiny judge
    # The PAA board and its export name the panel behind the numbers.
    export = client.get(
        reverse("board-export", args=["divervalue", "json"]), {"method": "paa"}
    ).json()
    panel = result.card.judge["paa"]["judges"]
    assert export["track"] == "judged"
    # Local judges by their folder's name, never their server path.
    names = [public_name(j["model"]) for j in panel]
    named = {
        f"{n}@{j['revision']}" if j.get("revision") else n
        for n, j in zip(names, panel, strict=True)
    }
    assert sorted(export["judges"]) == sorted(named)


def published_demo(version: str = "dvb-1"):
    # Published before any model exists, so publishing queues no re-evaluation.
    return import_release(
        BENCHMARK.demo_dir, benchmark="divervalue", version=version, licence="cc-by-4.0",
        publish=True,
    ).release  # fmt: skip


@pytest.mark.django_db
def test_without_a_judge_panel_the_board_says_why_paa_was_not_run(client, owner):
    from evaluation.benchmarks.divervalue.methods import NO_JUDGES
    from tests.factories import finished_job

    release = published_demo()
    model = LanguageModel.objects.create(name="org/no-judges", revision="a" * 40, submitter=owner)
    job = finished_job(model, release, methods=["opa", "paa"])
    job.repro_card = {**job.repro_card, "not_run": {"paa": NO_JUDGES}}
    job.save()
    page = client.get(reverse("board", args=["divervalue"]), {"method": "paa"}).content.decode()
    assert "PAA has no scores for 1 model: PAA was not run" in page
    assert "EVAL_PAA_JUDGES is empty" in page
    opa = client.get(reverse("board", args=["divervalue"])).content.decode()
    assert "data-not-run" not in opa  # OPA ran: nothing to explain


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_job_runs_paa_on_the_tiny_model_with_a_tiny_judge_panel(
    worker_settings, owner, tiny_model, tmp_path
):
    from leaderboard.evals import lifecycle
    from leaderboard.evals.models import TERMINAL_STATUSES
    from tests.evals.test_worker_e2e import wait_for
    from tests.worker import running_worker

    release = published_demo()
    model = LanguageModel.objects.create(
        name=str(tiny_model), revision="local-tiny", precision="float32", submitter=owner
    )
    panel = [{"name": "tiny-judge", "model": str(tiny_model), "max_gen_toks": 8}]
    env = {"EVAL_PAA_JUDGES": json.dumps(panel), "EVAL_MAX_GEN_TOKENS": "8"}
    with running_worker(tmp_path / "worker.log", extra_env=env):
        job = lifecycle.create_job(model, release, reason="PAA test")
        wait_for(
            lambda: EvaluationJob.objects.get(pk=job.pk).status in TERMINAL_STATUSES,
            300,
            "the job to end",
        )
    job.refresh_from_db()
    assert job.status == JobStatus.FINISHED, job.log_tail
    n_test = len(select_items(release_dir_of(release)))
    # One judge whose noise never parses: every item abstains, so PAA has no score (a 0%
    # would rank) and the card says why; every raw output is still kept per item.
    assert not Score.objects.filter(job=job, method="paa").exists()
    assert job.repro_card["not_run"]["paa"].startswith("no verdicts")
    assert job.repro_card["judge"]["paa"]["abstained_items"] == n_test
    assert Score.objects.filter(job=job, method="opa", slices={}, metric="opa").exists()
    samples = SampleResult.objects.filter(job=job, method="paa")
    assert samples.count() == n_test
    judged = samples.first()
    assert judged is not None and judged.details["judges"][0]["raw"]
    card = job.repro_card["judge"]["paa"]
    assert card["judges"][0]["name"] == "tiny-judge" and card["unparsable_outputs"] == {
        "tiny-judge": n_test
    }
    assert any("divervalue_paa_answer" in c for c in job.repro_card["lm_eval_commands"])


def release_dir_of(release):
    from leaderboard.catalog.exports import release_directory

    return release_directory(release)
