"""Celery tasks: thin wrappers that load rows by primary key and call the library."""

from __future__ import annotations

import socket
import threading
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

from celery import Task, shared_task, signals
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, connection

from evaluation.errors import SetupError
from leaderboard.evals import lifecycle, routing
from leaderboard.evals.models import EvaluationJob, FailureKind, JobKind
from leaderboard.tracking import log_tail


@signals.celeryd_after_setup.connect
def listen_for_capacity(sender: str, instance: Any, **kwargs: Any) -> None:
    """A GPU worker adds the queue named for its capacity (GPUs x memory) to those its `-Q`
    named, before it forks its pool (whose processes inherit the capacity to lay models out)."""
    routing.declare_worker(instance)


class Heartbeat:
    """Beats from a side thread while the job runs; notices cancellation."""

    def __init__(self, job_id: int, token: str, interval: float) -> None:
        self.job_id, self.token, self.interval = job_id, token, interval
        self.cancelled = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    alive = lifecycle.heartbeat(self.job_id, self.token)
                except DatabaseError:
                    # A database restart must not silence the job: reconnect at the next beat.
                    connection.close()
                    continue
                if not alive:
                    self.cancelled.set()
                    return
        finally:
            connection.close()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _run_tracked(task: Task, job_id: int, token: str, runner: Callable[..., None]) -> str:
    """Claim the job, run it with a heartbeat, and record how it ended."""
    # The node name workers answer broadcasts under, so the reaper can ask this one about it.
    node = task.request.hostname or socket.gethostname()
    job = lifecycle.claim(job_id, token, node)
    if job is None:
        return "skipped: stale delivery or job already ended"
    with Heartbeat(job_id, token, settings.EVAL_HEARTBEAT_INTERVAL) as beat:
        try:
            with log_tail(EvaluationJob, job_id):
                runner(job, token, cancelled=beat.cancelled)
        except lifecycle.JobCancelled:
            return "cancelled"
        except lifecycle.ModelProblem as exc:
            lifecycle.fail(job_id, token, FailureKind.MODEL, str(exc))
            return "failed: model"
        except lifecycle.ProviderWait as exc:
            lifecycle.wait(job_id, token, exc.wait_s, str(exc))
            return "waiting: provider"
        except SetupError as exc:
            lifecycle.fail(job_id, token, FailureKind.SETUP, str(exc))
            return "failed: setup"
        except SoftTimeLimitExceeded:
            # Too slow for the time limit: another attempt would only burn the same GPU hours.
            limit = settings.CELERY_TASK_SOFT_TIME_LIMIT
            reason = f"The job ran past the {limit // 60} minute time limit."
            lifecycle.fail(job_id, token, FailureKind.MODEL, reason)
            return "failed: time limit"
        except Exception as exc:
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            EvaluationJob.append_log(job_id, traceback.format_exc()[-3000:])
            lifecycle.fail(job_id, token, FailureKind.INFRA, detail)
            return "failed: infra"
    return "finished"


@shared_task(
    name=lifecycle.TASK_NAMES[JobKind.EVALUATE],
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def run_evaluation(self: Task, job_id: int, token: str) -> str:
    # Imported here: the web process sends this task and must not import torch to do so.
    from leaderboard.evals.runner import run_job

    return _run_tracked(self, job_id, token, run_job)


@shared_task(
    name=lifecycle.TASK_NAMES[JobKind.ALIGN],
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def run_alignment(self: Task, job_id: int, token: str) -> str:
    from leaderboard.evals.alignment import run_alignment_job

    return _run_tracked(self, job_id, token, run_alignment_job)


@shared_task(name="leaderboard.evals.tasks.reap_stale_jobs")
def reap_stale_jobs() -> list[int]:
    return lifecycle.reap_stale_jobs()
