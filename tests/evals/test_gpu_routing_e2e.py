"""Issue 21, items 1 and 2 on CPU: two real Celery workers declaring different capacities (one
GPU, two GPUs of the same small memory) each take the job whose model needs them; the model
that needs two GPUs is sharded across them (lm-eval's `parallelize=True`), and its card says so
and prints the stock command that does the same.

transformers knows one CPU device, so it cannot split a model across two CPU "devices": with
no GPU visible, accelerate's `device_map="auto"` (what `parallelize=True` asks for) offloads
the model to disk and streams its layers through the same dispatch hooks that place them on
GPUs. That stands in here; the split across real GPUs only a GPU machine can show."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from evaluation.benchmarks import register, unregister
from evaluation.capacity import Capacity, memory_need_gb
from evaluation.model_check import count_parameters
from leaderboard.catalog.models import Benchmark
from leaderboard.catalog.registry_sync import sync_benchmarks
from leaderboard.celery import app
from leaderboard.evals import routing
from leaderboard.evals.card import JobCard
from leaderboard.evals.models import TERMINAL_STATUSES, EvaluationJob, JobStatus
from tests.tiny_models import build_tiny_model
from tests.toy_benchmark import BENCHMARK, REGISTRATION
from tests.worker import ROOT, running_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def toy() -> Iterator[None]:
    slug, _, target = REGISTRATION.partition("=")
    register(slug, target)
    sync_benchmarks(Benchmark)
    call_command(
        "import_release",
        "--benchmark",
        slug,
        str(BENCHMARK.demo_dir),
        "--version",
        "toy-1",
        "--publish",
        stdout=StringIO(),
    )
    yield
    unregister(slug)


def finished(job: EvaluationJob, timeout: float = 300) -> EvaluationJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in TERMINAL_STATUSES:
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job.pk} still {job.status} after {timeout:.0f} s")


def declared(gpus: int, memory_gb: float) -> dict[str, str]:
    return {
        "EVAL_EXTRA_BENCHMARKS": REGISTRATION,
        "EVAL_WORKER_GPUS": str(gpus),
        "EVAL_WORKER_GPU_MEMORY_GB": str(memory_gb),
    }


def test_two_workers_of_different_capacities_each_take_the_job_that_needs_them(
    toy, worker_settings, tmp_path: Path, owner
):
    small = build_tiny_model(tmp_path / "models" / "small")
    big = build_tiny_model(tmp_path / "models" / "big", n_positions=4096)  # more parameters
    need = {path: memory_need_gb(count_parameters(path) or 0, "float32") for path in (small, big)}
    # A GPU holding the small model, but only half and a bit of the big one.
    memory = float(f"{need[big] / 1.9:.2g}")
    assert need[small] <= memory < need[big] <= 2 * memory
    one, two = Capacity(1, memory), Capacity(2, memory)
    worker_settings.EVAL_GPU_CAPACITIES = (one, two)
    worker_settings.SUBMISSION_LOCAL_ROOTS = [small.parent]

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")
    jobs = {}
    for path in (small, big):
        response = api.post(
            "/api/models/",
            {"name": str(path), "precision": "float32", "benchmarks": ["toy"]},
            format="json",
        )
        assert response.status_code == 201, response.json()
        jobs[path] = EvaluationJob.objects.get(pk=response.json()["jobs"][0]["id"])

    logs = {one: tmp_path / "one-gpu.log", two: tmp_path / "two-gpus.log"}
    # Without GPUs, accelerate's device_map puts a parallelized model in lm-eval's offload
    # folder (./offload, in the worker's directory): the stand-in for two devices on a CPU.
    offload = ROOT / "offload"
    offload_existed = offload.exists()
    try:
        # Both on the plain `gpu` queue as started today; each adds its capacity's queue.
        with (
            running_worker(logs[one], declared(1, memory), queues=("gpu",)),
            running_worker(logs[two], declared(2, memory), queues=("gpu",)),
        ):
            done = {path: finished(job) for path, job in jobs.items()}
    finally:
        if not offload_existed:
            shutil.rmtree(offload, ignore_errors=True)
        with app.connection_for_write() as conn:
            for capacity in (one, two):
                conn.default_channel.queue_delete(routing.queue_name(capacity.queue_role))

    for job in done.values():
        assert job.status == JobStatus.FINISHED, (job.failure_reason, job.log_tail)
    # Each ran on the worker of its capacity (the node name is in that worker's banner).
    assert done[small].worker_host in logs[one].read_text()
    assert done[big].worker_host in logs[two].read_text()
    assert JobCard(done[small].repro_card).layout == "one device"
    card = JobCard(done[big].repro_card)
    assert card.layout == "sharded across 2 GPUs (transformers device_map)"
    assert any("parallelize=True" in command for command in card["lm_eval_commands"])


def test_a_two_gpu_worker_runs_a_model_that_fits_one_gpu_as_a_copy_per_gpu(
    toy, worker_settings, tmp_path: Path, owner
):
    """Data parallel with transformers in a real Celery worker: the job's pool process starts
    one more copy of the model (on a GPU machine, pinned to the second GPU; here a second CPU
    process stands for it), and the card says so and prints `accelerate launch` (the toy
    benchmark's card has no `python -m evaluation run` command; NaVAB's is tested in
    tests/evaluation/test_data_parallel.py)."""
    small = build_tiny_model(tmp_path / "models" / "small")
    memory = float(f"{memory_need_gb(count_parameters(small) or 0, 'float32') * 1.5:.2g}")
    two = Capacity(2, memory)
    worker_settings.EVAL_GPU_CAPACITIES = (two,)
    worker_settings.SUBMISSION_LOCAL_ROOTS = [small.parent]

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")
    response = api.post(
        "/api/models/",
        {"name": str(small), "precision": "float32", "benchmarks": ["toy"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    job = EvaluationJob.objects.get(pk=response.json()["jobs"][0]["id"])
    try:
        with running_worker(tmp_path / "two-gpus.log", declared(2, memory), queues=("gpu",)):
            job = finished(job)
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(routing.queue_name(two.queue_role))

    assert job.status == JobStatus.FINISHED, (job.failure_reason, job.log_tail)
    card = JobCard(job.repro_card)
    assert card.layout == "2 data-parallel copies (one transformers process per GPU)"
    stock = [c for c in card["lm_eval_commands"] if " lm_eval run " in c]
    assert stock and all(
        c.startswith("accelerate launch --multi_gpu --num_processes 2") for c in stock
    )
