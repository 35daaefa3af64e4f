"""The pipeline's Celery task: one stage of one run, sent as a link of the run's chain.

`workflow.build_workflow` routes each stage's task to "gpu" (LLM stages) or "default" (CPU
stages). The task returns normally in every case; when the run must not go on (waiting for
approval, failed, cancelled, a stale or duplicate delivery) it drops the rest of the chain.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from leaderboard.pipeline_runs.execution import execute_stage
from leaderboard.pipeline_runs.workflow import STAGE_TASK


@shared_task(
    bind=True,
    name=STAGE_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
)
def run_pipeline_stage(self: Any, run_pk: int, stage: str) -> str:
    # A direct call (tests, `pipeline_run --sync`) has no task id and no chain to stop.
    outcome = execute_stage(run_pk, stage, self.request.id)
    if not outcome.proceed:
        self.request.chain = None
        self.request.callbacks = None
    return outcome.message
