"""OPA on the tiny model: the harness (lm-eval underneath) against an independent computation
with a plain transformers forward pass, and against stock `lm_eval` on the exported task."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.divervalue.harness import evaluate
from evaluation.benchmarks.divervalue.lm_eval_utils import DELTAS
from evaluation.benchmarks.divervalue.prompts import opa_prompt
from evaluation.benchmarks.divervalue.release import load_items, select_items, write_items
from evaluation.benchmarks.divervalue.results import OVERALL
from tests.evaluation.conftest import cpu_spec

pytestmark = pytest.mark.slow  # its runs go through lm-eval, which starts processes

BENCHMARK = get_benchmark("divervalue")


@pytest.fixture(scope="module")
def demo_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("dvb")
    write_items(directory, load_items(BENCHMARK.demo_dir))
    return directory


@pytest.fixture(scope="module")
def opa_run(tiny_model, demo_release, tmp_path_factory):
    out = tmp_path_factory.mktemp("dvb-run")
    return evaluate(cpu_spec(tiny_model), demo_release, device="cpu", out_dir=out), out


def per_token_score(model, tokenizer, prompt: str, answer: str) -> float:
    """The publisher's recipe, written from its description: the answer's tokens are those of
    prompt + answer after the prompt's; their log-probabilities summed, divided by their count."""
    import torch

    full = tokenizer(prompt + answer, return_tensors="pt")["input_ids"]
    prompt_len = tokenizer(prompt, return_tensors="pt")["input_ids"].shape[1]
    with torch.no_grad():
        log_probs = torch.log_softmax(model(full).logits.double(), dim=-1)
    answer_ids = full[0, prompt_len:]
    picked = log_probs[0, prompt_len - 1 : -1].gather(1, answer_ids[:, None])
    return float(picked.sum()) / len(answer_ids)


def test_opa_matches_an_independent_forward_pass(tiny_model, demo_release, opa_run):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    result, _ = opa_run
    model = AutoModelForCausalLM.from_pretrained(str(tiny_model)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model))
    items = select_items(demo_release)
    assert {i["split"] for i in items} == {"test"}  # published OPA is on DVB-test users
    margins = {
        item["uid"]: per_token_score(model, tokenizer, opa_prompt(item), item["answer_w"])
        - per_token_score(model, tokenizer, opa_prompt(item), item["answer_l"])
        for item in items
    }
    ours = {item.uid: item.margin for item in result.items}
    assert ours.keys() == margins.keys()
    for uid, margin in margins.items():
        assert ours[uid] == pytest.approx(margin, abs=1e-4)
    accuracies = [sum(m > d for m in margins.values()) / len(margins) for d in DELTAS]
    assert result.overall("opa").mean == pytest.approx(sum(accuracies) / len(DELTAS))
    assert result.overall("acc_0").mean == pytest.approx(accuracies[0])
    assert result.overall("margin").mean == pytest.approx(
        sum(margins.values()) / len(margins), abs=1e-4
    )
    assert result.overall("opa").n == len(items)


def test_every_slice_has_n_users_and_an_interval(opa_run):
    result, _ = opa_run
    dims = {row.dimension for row in result.scores}
    assert dims == {OVERALL, *(d.key for d in BENCHMARK.slices)}
    for row in result.scores:
        assert row.ci_low <= row.mean <= row.ci_high
        assert row.n_users <= row.n
        assert row.ranked == (row.dimension == OVERALL or row.n >= BENCHMARK.slices[0].min_n)
    region_n = sum(r.n for r in result.scores if r.dimension == "region" and r.metric == "opa")
    assert region_n == result.overall("opa").n


@pytest.mark.slow
def test_stock_lm_eval_on_the_exported_task_gives_the_same_opa(opa_run, tmp_path):
    result, out = opa_run
    argv = shlex.split(result.card["lm_eval_command"])
    assert argv[0] == "lm_eval"
    subprocess.run([sys.executable, "-m", "lm_eval", *argv[1:]], check=True, capture_output=True)
    [results_file] = (out / "lm_eval").glob("**/results_*.json")
    stock = json.loads(results_file.read_text())["results"]["divervalue_opa"]
    for metric in ("opa", "acc_0", "margin"):
        assert stock[f"{metric},none"] == pytest.approx(result.overall(metric).mean, abs=1e-9)
    [samples_file] = (out / "lm_eval").glob("**/samples_divervalue_opa_*.jsonl")
    stock_margins = {
        json.loads(line)["doc"]["uid"]: json.loads(line)["margin"]
        for line in samples_file.read_text().splitlines()
    }
    assert stock_margins == {item.uid: item.margin for item in result.items}


def test_the_generic_result_carries_every_slice_score_and_item_margin(opa_run, tiny_model):
    from evaluation.benchmarks.divervalue.results import to_evaluation_result

    result, _ = opa_run
    generic = to_evaluation_result(result, cpu_spec(tiny_model))
    overall = {r.metric: r for r in generic.scores if r.slices == {}}
    assert set(overall) == {"opa", "acc_0", "margin"}
    assert overall["opa"].value == pytest.approx(result.overall("opa").mean)
    assert overall["opa"].ci_low <= overall["opa"].value <= overall["opa"].ci_high
    region = {r.slices["region"] for r in generic.scores if "region" in r.slices}
    assert region == {item.slices["region"] for item in result.items}
    margins = {s.uid: s.value for s in generic.samples}
    assert margins == {item.uid: item.margin for item in result.items}
    assert generic.card.methods == ["opa"] and "birth_country" in generic.card.slices


def test_each_slice_interval_resamples_the_cells_users_from_the_cells_seed(opa_run):
    from evaluation.benchmarks.intervals import metric_interval
    from evaluation.stats import cell_seed

    result, _ = opa_run
    region = result.items[0].slices["region"]
    for key, value in ((OVERALL, OVERALL), ("region", region)):
        members = [i for i in result.items if key == OVERALL or i.slices[key] == value]
        users = [item.user_id for item in members]
        for metric in BENCHMARK.method("opa").metrics:
            values = [item.outcome[metric.key] for item in members]
            alone = metric_interval(metric, values, cell_seed(1234, key, value), users)
            row = result.score(key, value, metric.key)
            assert (row.ci_low, row.ci_high) == alone
