"""Submissions through a real gunicorn with threaded workers, as deployed."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from leaderboard.evals.models import EvaluationJob
from tests.factories import make_release
from tests.web import running_gunicorn
from tests.worker import purge_queues

pytestmark = pytest.mark.slow


def config_only_models(root: Path, count: int) -> list[Path]:
    """Distinct model directories (a config, no weights): each needs a meta-device build."""
    paths = []
    for i in range(count):
        directory = root / f"tiny-gpt2-{i}"
        directory.mkdir(parents=True)
        config = {
            "model_type": "gpt2",
            "architectures": ["GPT2LMHeadModel"],
            "n_layer": 1,
            "n_head": 2,
            "n_embd": 16 + 2 * i,
            "vocab_size": 100,
            "n_positions": 64,
        }
        (directory / "config.json").write_text(json.dumps(config))
        paths.append(directory)
    return paths


def post_all(url: str, token: str, bodies: list[dict[str, str]]) -> list[tuple[int, str]]:
    """POST every body at once, one thread each; (status, body) in the same order."""
    answers: list[tuple[int, str]] = [(0, "")] * len(bodies)
    barrier = threading.Barrier(len(bodies))

    def post(i: int) -> None:
        request = urllib.request.Request(
            url,
            data=json.dumps(bodies[i]).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                answers[i] = (response.status, response.read().decode())
        except urllib.error.HTTPError as exc:
            answers[i] = (exc.code, exc.read().decode())

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


@pytest.fixture
def submitter(transactional_db: None, owner: User) -> User:
    """The owner, with a published release to submit to."""
    make_release(per_cell=2)
    return owner


def submit_ten_at_once(tmp_path: Path, user: User, limit: int) -> list[int]:
    """Ten different models POSTed together to a freshly started gunicorn; the statuses."""
    token = Token.objects.create(user=user).key
    models = config_only_models(tmp_path / "models", 10)
    env = {
        "SUBMISSION_LOCAL_ROOTS": str(tmp_path / "models"),
        "SUBMISSIONS_PER_DAY": str(limit),
        "API_SUBMISSION_RATE": "1000/hour",
    }
    try:
        with running_gunicorn(tmp_path / "gunicorn.log", env) as base:
            answers = post_all(
                f"{base}/api/models/",
                token,
                [{"name": str(path), "precision": "float32"} for path in models],
            )
    finally:
        purge_queues()
    assert all(status != 500 for status, _ in answers), (tmp_path / "gunicorn.log").read_text()
    return [status for status, _ in answers]


def test_parallel_first_submissions_on_fresh_threaded_workers_are_all_accepted(tmp_path, submitter):
    assert submit_ten_at_once(tmp_path, submitter, limit=100) == [201] * 10
    assert EvaluationJob.objects.filter(requested_by=submitter).count() == 10


def test_parallel_api_submissions_accept_exactly_the_daily_limit(tmp_path, submitter):
    statuses = submit_ten_at_once(tmp_path, submitter, limit=5)
    assert sorted(statuses) == [201] * 5 + [400] * 5
    assert EvaluationJob.objects.filter(requested_by=submitter).count() == 5
