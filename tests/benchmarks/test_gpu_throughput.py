"""benchmarks/gpu_throughput.py with its CPU preset: a random-weight Llama built in memory runs
the harness's NaVAB MC and AJ and DiverValue-Bench OPA, and the script reports as it goes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow  # runs the script in a subprocess

ROOT = Path(__file__).resolve().parents[2]


def gpu_throughput(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "benchmarks/gpu_throughput.py", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_the_tiny_preset_runs_every_method_on_cpu_and_projects_a_release():
    result = gpu_throughput(
        "--preset", "tiny", "--device", "cpu", "--items", "8", "--max-gen-toks", "4"
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert re.match(
        r"device cpu; torch \S+, transformers \S+, lm_eval \S+, vllm \S+; preset tiny", lines[0]
    )
    for method in ("navab:mc", "navab:aj", "divervalue:opa"):
        line = next(line for line in lines if line.startswith(f"hf   {method}"))
        # Every NaVAB and DVB item was scored: the harness's records name 8 distinct items.
        assert re.search(
            r" 8 items in +\d+\.\d+ s: +\d+\.\d+ items/s; 20,000 items: +\d+\.\d+ min$", line
        )
    goal = next(line for line in lines if line.startswith("goal: hf NaVAB MC + AJ"))
    assert goal.endswith("not assessed (the goal is for --preset 7b on a GPU)")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_it_says_when_cuda_is_missing():
    result = gpu_throughput("--preset", "tiny", "--device", "cuda", "--items", "8")
    assert result.returncode == 2
    assert "CUDA is not available here; pass --device cpu" in result.stderr
