"""Issue 21, item 2: a transformers model that fits one GPU runs a copy per GPU, one process
each (`evaluation.data_parallel`). On the CPU two processes stand for two GPUs: the per-item
results (log-likelihoods, choices, generated answers, the judge's verdicts) must be those of
one process, every request must be counted, and the helper processes must end with the model."""

from __future__ import annotations

import gc
from dataclasses import asdict, replace

import pytest

from evaluation import ProgressEvent
from evaluation.benchmarks.navab.harness import evaluate
from evaluation.lm_eval_runner import load_lm
from tests.evaluation.conftest import cpu_spec

pytestmark = pytest.mark.slow


def _run(spec, release, events=None):
    # MC (log-likelihoods) and AJ (generation, then the model judging itself): every request
    # type the benchmark sends goes through the copies.
    return evaluate(
        spec,
        release,
        seed=7,
        device="cpu",
        max_gen_toks=3,
        progress=events.append if events is not None else None,
    )


def test_two_copies_give_the_per_item_results_of_one_process(tiny_model, tiny_release):
    one = _run(cpu_spec(tiny_model), tiny_release)
    events: list[ProgressEvent] = []
    two = _run(cpu_spec(tiny_model, replicas=2), tiny_release, events)
    assert [asdict(s) for s in two.samples] == [asdict(s) for s in one.samples]
    assert two.scores == one.scores
    assert two.answers == one.answers
    # Requests scored by the second copy are counted too, as they come back.
    total = events[0].total
    assert events[-1] == ProgressEvent("finished", total, total)
    done = [e.done for e in events]
    assert done == sorted(done)
    # The card records the layout, and both commands on it reproduce it.
    assert two.card.model["replicas"] == 2
    assert "--replicas 2" in two.card.command
    stock = [c for c in two.card.lm_eval_commands if " lm_eval run " in c]
    assert stock and all(
        c.startswith("accelerate launch --multi_gpu --num_processes 2 -m lm_eval run --model hf")
        for c in stock
    )


def test_the_helper_processes_end_with_the_model(tiny_model):
    lm = load_lm(cpu_spec(tiny_model, replicas=3), "cpu")
    dealt = lm.loglikelihood.__closure__
    helpers = next(c.cell_contents for c in dealt if isinstance(c.cell_contents, list))
    processes = [helper.process for helper in helpers]
    assert len(processes) == 2 and all(p.poll() is None for p in processes)
    del lm, dealt, helpers
    gc.collect()
    assert [p.wait(timeout=30) for p in processes] == [0, 0]


def test_more_copies_than_gpus_is_the_sites_set_up(tiny_model, monkeypatch):
    from evaluation.errors import SetupError

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    from evaluation.data_parallel import spread

    with pytest.raises(SetupError, match="2 data-parallel copies need 2 GPUs; this worker sees 1"):
        spread(object(), replace(cpu_spec(tiny_model), replicas=2), "cuda")
    with pytest.raises(SetupError, match="use every GPU: run on cuda, not cuda:1"):
        spread(object(), replace(cpu_spec(tiny_model), replicas=2), "cuda:1")
