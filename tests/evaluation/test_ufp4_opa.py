"""OPA on UF-P-4 with the tiny model through lm-eval: the profile-and-prompt text of
DiverValue-Bench's scripts/eval_ufp4, per-token margins that match a plain forward pass, the
publisher's pooled score over the four subsets and one score per subset."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.divervalue.lm_eval_utils import DELTAS
from evaluation.benchmarks.ufp4.prompts import opa_prompt
from evaluation.release import write_benchmark_release
from tests.evaluation.conftest import cpu_spec
from tests.evaluation.test_divervalue_opa import per_token_score

pytestmark = pytest.mark.slow  # lm-eval starts processes

BENCHMARK = get_benchmark("ufp4")


def test_the_prompt_is_the_profile_a_newline_and_the_prompt_each_stripped() -> None:
    item = {"profile": "  I like short answers. ", "prompt": " Why?\n"}
    assert opa_prompt(item) == "I like short answers.\nWhy?"
    assert opa_prompt({"profile": "", "prompt": " Why? "}) == "Why?"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("ufp4")
    write_benchmark_release(directory, BENCHMARK, BENCHMARK.release_items(BENCHMARK.demo_dir), {})
    return directory


def test_opa_matches_a_forward_pass_and_is_scored_per_subset(tiny_model, release, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    result = BENCHMARK.evaluate(
        cpu_spec(tiny_model), release, methods=None, device="cpu", out_dir=tmp_path
    )
    model = AutoModelForCausalLM.from_pretrained(str(tiny_model)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model))
    items = BENCHMARK.release_items(release)
    margins = {
        item["uid"]: per_token_score(model, tokenizer, opa_prompt(item), item["chosen"])
        - per_token_score(model, tokenizer, opa_prompt(item), item["rejected"])
        for item in items
    }
    ours = {s.uid: s.value for s in result.samples}
    assert ours.keys() == margins.keys() and len(ours) == 16
    for uid, margin in margins.items():
        assert ours[uid] == pytest.approx(margin, abs=1e-4)
    pooled = [sum(m > d for m in margins.values()) / len(margins) for d in DELTAS]
    overall = result.score({}, "opa", "opa")
    assert overall.value == pytest.approx(sum(pooled) / len(DELTAS)) and overall.n == 16
    assert overall.ci_low <= overall.value <= overall.ci_high and overall.clusters is None
    for subset in ("helpfulness", "honesty", "instruction_following", "truthfulness"):
        own = [m for item in items if item["subset"] == subset for m in [margins[item["uid"]]]]
        row = result.score({"subset": subset}, "opa", "acc_0")
        assert row.n == 4 and row.value == pytest.approx(sum(m > 0 for m in own) / 4)
    assert result.card.lm_eval_commands[0].startswith("python -m evaluation export-tasks")
    assert (tmp_path / "tasks" / "ufp4_opa.yaml").is_file()
