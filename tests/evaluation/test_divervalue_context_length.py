"""DiverValue-Bench's PAA with a model or a judge whose context is shorter than some prompts:
those items are left out of the verdicts and counted per cell on the card (lm-eval would cut
the prompts), never a crash; a judge that holds none leaves PAA without verdicts, saying why,
and is not the evaluated model's failure."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.divervalue.judges import JudgeSpec
from evaluation.benchmarks.divervalue.release import load_items, select_items, write_items
from evaluation.results import slice_key
from tests.evaluation.conftest import cpu_spec
from tests.tiny_models import build_tiny_model

pytestmark = pytest.mark.slow

BENCHMARK = get_benchmark("divervalue")
LIMIT = 8
# The demo items' answer prompts need 210-250 tokens of the tiny tokenizer and the judges'
# about 1,400-1,600: a 240-token model answers some items and not others, a 512-token judge
# reads none, a 2,048-token one all.
SHORT_MODEL = 240
MAX_GEN_TOKS = 4


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("dvb")
    write_items(directory, load_items(BENCHMARK.demo_dir))
    return directory


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {
        "short": build_tiny_model(root / "short", n_positions=SHORT_MODEL),
        "judge": build_tiny_model(root / "judge", n_positions=2048),
        "short-judge": build_tiny_model(root / "short-judge", n_positions=512),
    }


def judge(path: Path, name: str) -> JudgeSpec:
    return JudgeSpec(name=name, model=str(path), dtype="float32", max_gen_toks=2)


def test_items_the_model_cannot_read_whole_are_left_out_of_paa_and_counted_per_cell(
    models, release
):
    result = BENCHMARK.evaluate(
        cpu_spec(models["short"]),
        release,
        methods=["paa"],
        judges=[judge(models["judge"], "judge")],
        device="cpu",
        limit=LIMIT,
        max_gen_toks=MAX_GEN_TOKS,
    )

    items = {item["uid"]: item for item in select_items(release, limit=LIMIT)}
    judged = {s.uid for s in result.samples if s.method == "paa"}
    left_out = items.keys() - judged
    assert judged and left_out  # some fit and some do not: the test shows both
    assert judged == result.answers.keys()
    card = result.card.too_long["paa"]
    assert (card["context"], card["n"]) == (SHORT_MODEL, len(left_out))
    per_cell = Counter(slice_key(BENCHMARK.slice_of(items[uid])) for uid in left_out)
    assert {slice_key(c["slices"]): c["n"] for c in card["cells"]} == per_cell
    assert result.card.judge["paa"]["n_items"] == len(judged)


def test_a_judge_that_reads_no_item_whole_leaves_paa_without_verdicts_not_the_job_failed(
    models, release
):
    result = BENCHMARK.evaluate(
        cpu_spec(models["judge"]),
        release,
        methods=["opa", "paa"],
        judges=[judge(models["short-judge"], "short-judge")],
        device="cpu",
        limit=LIMIT,
        max_gen_toks=MAX_GEN_TOKS,
    )

    assert not [s for s in result.samples if s.method == "paa"]
    assert not [s for s in result.scores if s.method == "paa"]
    assert "longer than the context" in result.card.not_run["paa"]
    assert result.card.too_long["paa"]["n"] == LIMIT
    assert result.card.too_long["paa"]["context"] == 512
    assert "opa" not in result.card.too_long  # the model itself reads every OPA item
    assert any(s.method == "opa" and not s.slices for s in result.scores)
