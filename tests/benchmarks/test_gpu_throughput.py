"""benchmarks/gpu_throughput.py: the tiny configuration runs the harnesses' NaVAB MC and AJ and
DiverValue-Bench OPA on the CPU, measured and extrapolated from a slice, every printed figure
parses and is finite and positive; the parity comparison, the slice a GPU holds and the goals are
checked on their own (no GPU and no vLLM here)."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from benchmarks import gpu_throughput
from evaluation.spec import vllm_available

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"(\d+(?:\.\d+)?)"
FIGURES = re.compile(
    rf"^(measured|extrapolated) hf tiny(?: \(1 of 2 layers\))? (navab:mc|navab:aj|divervalue:opa): "
    rf"(\d+) items in {NUMBER} s; {NUMBER} items/s; {NUMBER} tokens/s; MFU n/a \(CPU\); "
    rf"(63,000|23,763) items: {NUMBER} min(; (\d+) generated tokens/item)?"
    rf"(?: \(the 1-layer slice x {NUMBER}\))?$"
)


def gpu_throughput_run(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "benchmarks/gpu_throughput.py", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow  # runs the script, which starts a process per configuration x backend
def test_it_measures_every_method_on_cpu_and_extrapolates_a_slice():
    result = gpu_throughput_run(
        "--configs", "tiny", "--device", "cpu", "--items", "8", "--max-gen-toks", "4",
        "--slice", "tiny=1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert re.match(
        r"device cpu; torch \S+, transformers \S+, lm_eval \S+, vllm (\S+|not installed)$", lines[0]
    )
    tokenizer = next(line for line in lines if line.startswith("tokenizer: "))
    assert re.match(r"tokenizer: 2,400 tokens, 1\.[2-4]\d a word on the items' text$", tokenizer)
    if not vllm_available():
        assert "vllm: vLLM not installed; its figures are skipped" in lines
        assert "parity: skipped (vLLM not installed)" in lines
    assert any(line.startswith("tiny: measuring 1 of its 2 layers (") for line in lines)
    figures = [
        FIGURES.match(line) for line in lines if line.startswith(("measured", "extrapolated"))
    ]
    assert all(figures), [line for line in lines if line.startswith(("measured", "extrapolated"))]
    seen = {(m.group(1), m.group(2)) for m in figures if m}
    assert seen == {
        (kind, method) for kind in ("measured", "extrapolated") for method in gpu_throughput.METHODS
    }
    for match in figures:
        assert match is not None
        items, seconds, rate, tokens = (float(match.group(i)) for i in (3, 4, 5, 6))
        minutes = float(match.group(8))
        assert items == 8  # every item was scored: the harness's records name 8 distinct items
        for value in (seconds, rate, tokens, minutes):
            assert math.isfinite(value) and value > 0
        assert rate == pytest.approx(items / seconds, rel=0.02)
        full = 23_763 if match.group(2) == "divervalue:opa" else 63_000
        assert minutes == pytest.approx(full / rate / 60, rel=0.02)
        # AJ's answers count their tokens, at most --max-gen-toks; nothing else generates.
        assert (match.group(10) is not None) is (match.group(2) == "navab:aj")
        assert match.group(10) is None or 1 <= int(match.group(10)) <= 4
        if match.group(1) == "extrapolated":
            assert float(match.group(11)) > 1  # two layers cost more than one
    full = next(line for line in lines if line.startswith("full hf tiny (extrapolated): NaVAB"))
    assert re.search(r"MC \+ AJ \d+\.\d\d min$", full)
    goals = [line for line in lines if line.startswith("goal hf tiny")]
    assert len(goals) == 3
    assert all(
        line.endswith("not assessed (the goals are for the 7b configuration on one H100-class GPU)")
        for line in goals
    )
    assert lines[-1].startswith("done in ")


@pytest.mark.slow
def test_a_wall_time_budget_sizes_the_runs_to_fit():
    start = time.monotonic()
    result = gpu_throughput_run(
        "--configs", "tiny", "--device", "cpu", "--items", "100000", "--max-gen-toks", "4",
        "--budget-min", "1",
    )  # fmt: skip
    elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stderr[-3000:]
    assert elapsed < 60 + 30  # the budget, and the interpreter's start and end on a busy machine
    measured = [line for line in result.stdout.splitlines() if line.startswith("measured hf tiny")]
    assert measured, result.stdout
    assert all(int(re.search(r": (\d+) items in", line).group(1)) < 100000 for line in measured)


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_it_says_when_cuda_is_missing():
    result = gpu_throughput_run("--configs", "tiny", "--device", "cuda", "--items", "8")
    assert result.returncode == 2
    assert "CUDA is not available here; pass --device cpu" in result.stderr


def test_a_70b_model_is_measured_on_the_layers_one_h100_holds(capsys):
    layers = gpu_throughput.plan_slice("70b", 32000, 79.2, None)
    out = capsys.readouterr().out
    # 69.0B parameters need 172 GB with capacity.py's margin; 36 layers (31.3B, 78.3 GB) fit,
    # 37 (32.2B, 80.5 GB) do not.
    assert layers == 36
    assert "70b: measuring 36 of its 80 layers (31.3B of 69.0B parameters)" in out
    assert (
        "an 8x79.2g worker runs it sharded across 4 GPUs (vLLM tensor parallel), 2 data-parallel "
        "copies (evaluation/capacity.py); not run across GPUs here"
    ) in out
    assert gpu_throughput.plan_slice("7b", 32000, 79.2, None) == 32  # a 7B fits whole
    assert gpu_throughput.plan_slice("70b", 32000, 79.2, 8) == 8


def test_the_peak_is_read_from_the_device_name():
    assert gpu_throughput.peak_flops("NVIDIA H100 80GB HBM3", None) == 989e12
    assert gpu_throughput.peak_flops("NVIDIA H200", None) == 989e12
    assert gpu_throughput.peak_flops("NVIDIA H100 PCIe", None) == 756e12
    assert gpu_throughput.peak_flops("NVIDIA L4", None) is None
    assert gpu_throughput.peak_flops("NVIDIA L4", 121.0) == 121e12


def record(
    uid: str, a: float, b: float, chosen: str, answer: str | None = None
) -> dict[str, object]:
    out: dict[str, object] = {"uid": uid, "chosen": chosen, "loglikelihoods": {"A": a, "B": b}}
    return out if answer is None else {**out, "answer": answer}


def test_parity_counts_agreement_and_how_close_the_flipped_choices_were():
    hf = [
        {"method": "navab:aj", "records": [
            record("1", -1.0, -2.0, "A", "yes"),
            record("2", -1.00, -1.01, "A", "no"),
            record("3", -1.0, -3.0, "A", "so"),
        ]},
        {"method": "navab:mc", "records": [record("1", -1.0, -2.0, "A")]},
    ]  # fmt: skip
    vllm = [
        {"method": "navab:aj", "records": [
            record("1", -1.02, -2.0, "A", "yes"),
            record("2", -1.02, -1.01, "B", "no"),  # a flip 0.01 apart: rounding
            record("3", -1.0, -3.5, "A", "other"),
            record("4", -1.0, -3.0, "A", "only here"),  # scored by one backend: not compared
        ]},
    ]  # fmt: skip
    assert gpu_throughput.compare(hf, vllm) == [
        "parity navab:aj: 3 items, the same choice on 2 (66.7%); |log-likelihood difference| max "
        "0.5000, median 0.0100; the items chosen differently were at most 0.0100 apart; the same "
        "generated answer on 2 (a judged choice follows its answer)"
    ]
    same = [{"method": "navab:mc", "records": [record("1", -1.0, -2.0, "A")]}]
    assert gpu_throughput.compare(same, same) == [
        "parity navab:mc: 1 items, the same choice on 1 (100.0%); |log-likelihood difference| "
        "max 0.0000, median 0.0000"
    ]


def test_the_goals_are_judged_for_the_7b_on_a_gpu_only():
    def row(method: str, items: int, seconds: float, mfu: float) -> dict[str, object]:
        return {"config": "7b", "backend": "vllm", "method": method, "items": items,
                "seconds": seconds, "tokens": 1, "generated": 0, "scale": 1.0, "layers": 32,
                "mfu": mfu}  # fmt: skip

    rows = [row("navab:mc", 1000, 6.0, 0.45), row("navab:aj", 1000, 30.0, 0.1),
            row("divervalue:opa", 1000, 12.0, 0.35)]  # fmt: skip
    lines = gpu_throughput.summary(rows, "cuda")
    assert "full vllm 7b: NaVAB (63,000 triples) MC + AJ 37.80 min" in lines
    assert "full vllm 7b: DiverValue-Bench (23,763 items) OPA 4.75 min" in lines
    assert "goal vllm 7b NaVAB MC 6.30 min (<= 5 min): NOT met" in lines
    assert "goal vllm 7b NaVAB MC + AJ 37.80 min (<= 30 min): NOT met" in lines
    assert (
        "goal vllm 7b log-likelihood navab:mc MFU 45.0%, divervalue:opa MFU 35.0% (>= 40%): NOT met"
        in lines
    )
    fast = [row("navab:mc", 1000, 4.0, 0.5), row("navab:aj", 1000, 20.0, 0.1),
            row("divervalue:opa", 1000, 4.0, 0.41)]  # fmt: skip
    assert sum(line.endswith(": met") for line in gpu_throughput.summary(fast, "cuda")) == 3
    assert all(
        "not assessed" in line
        for line in gpu_throughput.summary(fast, "cpu")
        if line.startswith("goal")
    )


def test_a_context_two_continuations_share_counts_once(tmp_path):
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    from benchmarks.gpu_measure import RequestLog
    from tests.tiny_models import build_tiny_model

    lm = HFLM(pretrained=str(build_tiny_model(tmp_path / "model")), device="cpu", batch_size=4)
    log = RequestLog(lm)
    context = "Question: should cities ban cars? Answer:"

    def request(kind: str, args: tuple[object, ...], i: int) -> Instance:
        return Instance(request_type=kind, doc={}, arguments=args, idx=i)

    scores = lm.loglikelihood(
        [request("loglikelihood", (context, c), i) for i, c in enumerate([" A", " B"])]
    )
    answers = lm.generate_until([request("generate_until", (context, {"max_gen_toks": 3}), 0)])
    assert len(scores) == 2 and len(answers) == 1  # the LM's own results, passed on
    size = len(lm.tokenizer(context, add_special_tokens=False).input_ids)
    tokens, generated = log.tokens(lm.tokenizer, max_gen_toks=3)
    assert 1 <= generated <= 3
    # the context once for both letters, each letter, the prompt again, the answer
    assert tokens == size + 2 + size + generated


@pytest.mark.slow  # starts the measuring process
def test_a_parity_run_loads_the_saved_model_as_the_site_does_and_keeps_every_choice(tmp_path):
    """The transformers half of the parity check, on the CPU: the random model saved once,
    loaded by `load_lm`, every method's per-item choices and log-likelihoods kept for
    `compare` (the vLLM half needs a GPU)."""
    import json
    from dataclasses import asdict

    from benchmarks.gpu_measure import Job

    gpu_throughput.train_tokenizer(tmp_path)
    job = Job(
        config="tiny", backend="hf", device="cpu", work=str(tmp_path), items=8,
        methods=list(gpu_throughput.METHODS), batch_size=8, max_gen_toks=4, layers=2,
        peak_flops=None, deadline=None, parity=True, results=str(tmp_path / "hf.json"),
        label="hf tiny parity",
    )  # fmt: skip
    run = subprocess.run(
        [sys.executable, "benchmarks/gpu_measure.py", json.dumps(asdict(job))],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "parity-tiny" / "model.safetensors").exists()
    rows = json.loads((tmp_path / "hf.json").read_text())
    assert [(row["method"], len(row["records"])) for row in rows] == [
        (method, 8) for method in gpu_throughput.METHODS
    ]
    for row in rows:
        for item in row["records"]:
            assert len(item["loglikelihoods"]) == 2
            assert item["chosen"] in {"A", "B", "answer_w", "answer_l"}
    lines = gpu_throughput.compare(rows, rows)
    assert [line.split(": ")[0] for line in lines] == [
        f"parity {method}" for method in gpu_throughput.METHODS
    ]
    assert all("the same choice on 8 (100.0%)" in line for line in lines)
