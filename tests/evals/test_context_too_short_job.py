"""Issue 18, item 23: a model whose context holds no NaVAB item fails as the model's problem.
The job runs through the real task and runner (claim, heartbeat, lm-eval on a tiny model) in
process; the broker is the only part left out, so a retry would show as a second send."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from leaderboard.evals import lifecycle
from leaderboard.evals.models import EvaluationJob, FailureKind, JobStatus, LanguageModel
from leaderboard.evals.tasks import run_evaluation
from tests.factories import make_release
from tests.tiny_models import build_tiny_model

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Shorter than any NaVAB prompt with its answer (a tiny one needs 68 tokens).
SHORT_CONTEXT = 32


@pytest.fixture
def sends() -> Iterator[mock.MagicMock]:
    """What would reach the broker: the job's deliveries are run here, in process."""
    with mock.patch("leaderboard.evals.tasks.run_evaluation.apply_async") as send:
        yield send


def test_a_model_that_fits_no_item_fails_as_its_own_problem_with_the_reason_shown(
    owner, owner_client, settings, sends, tmp_path: Path
):
    settings.EVAL_RESULTS_DIR = tmp_path / "results"
    path = build_tiny_model(tmp_path / "models" / "short", n_positions=SHORT_CONTEXT)
    # The release first: publishing it would otherwise already queue the model.
    release = make_release("short", per_cell=1)
    model = LanguageModel.objects.create(
        name=str(path), revision="local-short", precision="float32", submitter=owner
    )
    job = lifecycle.create_job(model, release, requested_by=owner)
    sent = sends.call_count
    job.refresh_from_db()  # the delivery's token, set when it was sent

    run_evaluation.apply(args=[job.pk, job.celery_task_id])

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED, job.log_tail
    assert job.failure_kind == FailureKind.MODEL, job.failure_reason
    # Final: never sent again, and no further attempt made.
    assert job.infra_retries == 0 and sends.call_count == sent
    assert job.attempt == 1 and EvaluationJob.objects.filter(model=model).count() == 1
    reason = re.compile(
        rf"no item fits the model's context of {SHORT_CONTEXT} tokens: the shortest needs \d+"
    )
    assert reason.search(job.failure_reason), job.failure_reason
    page = html.unescape(owner_client.get(job.get_absolute_url()).content.decode())
    assert "Model failure" in page and reason.search(page), page
    api = owner_client.get(f"/api/jobs/{job.pk}/").json()
    assert api["status"] == "failed" and api["failure_kind"] == "model"
    assert api["attempt"] == 1 and api["infra_retries"] == 0
    assert reason.search(api["failure_reason"]), api
