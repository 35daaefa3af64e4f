"""One DiverValue-Bench evaluation reports one progress: OPA then PAA count on out of one total,
and nothing follows "finished" (a job page once read "finished 100%", then "paa: judge 66%")."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.divervalue.judges import JudgeSpec
from evaluation.benchmarks.divervalue.release import load_items, write_items
from evaluation.results import ProgressEvent
from tests.evaluation.conftest import cpu_spec
from tests.tiny_models import build_tiny_model

# lm-eval runs in process: it starts probe processes (git, pip, nvidia-smi).
pytestmark = pytest.mark.slow

BENCHMARK = get_benchmark("divervalue")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-gpt2")


def test_opa_then_paa_progress_never_goes_back_and_finishes_last(tiny_model, tmp_path):
    release = tmp_path / "dvb"
    write_items(release, load_items(BENCHMARK.demo_dir))
    events: list[ProgressEvent] = []
    judge = JudgeSpec(name="tiny", model=str(tiny_model), dtype="float32", max_gen_toks=8)
    BENCHMARK.evaluate(
        cpu_spec(tiny_model),
        release,
        methods=["opa", "paa"],
        judges=[judge],
        device="cpu",
        limit=3,
        max_gen_toks=8,
        progress=events.append,
    )

    assert {e.total for e in events} == {3 * 2 + 3 * 2}  # OPA's 2 per item, answer + 1 judge
    done = [e.done for e in events]
    assert done == sorted(done), [(e.stage, e.done) for e in events]
    assert done[-1] == events[-1].total
    stages = [e.stage for e in events]
    assert "finished" not in stages[:-1], stages
    assert any(s.startswith("paa: judge") for s in stages)
