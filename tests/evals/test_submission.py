from __future__ import annotations

import json
import threading
from unittest import mock

import pytest
from django.db import connection
from django.urls import reverse

from leaderboard.evals.models import EvaluationJob, JobStatus, LanguageModel
from leaderboard.evals.submission import Submission, SubmissionError, submit

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(autouse=True)
def offline_hub(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def no_broker_sends():
    with mock.patch("leaderboard.evals.tasks.run_evaluation.apply_async") as send:
        yield send


def form_data(**overrides):
    data = {
        "name": "org/model-7b",
        "revision": COMMIT,
        "precision": "bfloat16",
        "model_type": "base",
        "params_billions": "7",
        "family": "",
        "endpoint_url": "",
    }
    data.update(overrides)
    return data


def test_it_needs_an_account(client, release):
    response = client.get(reverse("submit"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_it_queues_a_valid_submission(client, owner, release):
    client.force_login(owner)
    response = client.post(reverse("submit"), form_data())
    job = EvaluationJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.model.submitter == owner and job.model.revision == COMMIT
    assert job.requested_by == owner


def test_the_form_is_csrf_protected(owner, release):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(reverse("submit"), form_data()).status_code == 403


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "not a model id"}, "organisation/model-name"),
        ({"name": "org/model\nx"}, "organisation/model-name"),
        ({"name": "just-a-name"}, "organisation/model-name"),
        ({"revision": "main"}, "40-character commit"),
        ({"params_billions": "500"}, "not accepted"),
        ({"name": "org/.."}, "organisation/model-name"),
        ({"name": "tests/evals"}, "names a path on this server"),
        ({"endpoint_url": "http://169.254.169.254/v1"}, "are not accepted"),
    ],
)
def test_it_refuses_invalid_submissions_with_reasons(client, owner, release, overrides, message):
    client.force_login(owner)
    response = client.post(reverse("submit"), form_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not EvaluationJob.objects.exists()


def test_it_refuses_duplicates_of_model_revision_and_precision(client, owner, release):
    client.force_login(owner)
    client.post(reverse("submit"), form_data())
    response = client.post(reverse("submit"), form_data())
    assert "already submitted" in response.content.decode()
    assert LanguageModel.objects.count() == 1
    # Another precision is a different entry.
    client.post(reverse("submit"), form_data(precision="float16"))
    assert LanguageModel.objects.count() == 2


def test_the_daily_limit_does_not_count_failed_or_cancelled_jobs(owner, release, settings):
    settings.SUBMISSIONS_PER_DAY = 2
    [first] = submit(Submission(name="org/a", revision=COMMIT), owner)
    submit(Submission(name="org/b", revision=COMMIT), owner)
    with pytest.raises(SubmissionError, match="limit of 2"):
        submit(Submission(name="org/c", revision=COMMIT), owner)
    EvaluationJob.objects.filter(pk=first.pk).update(status=JobStatus.FAILED)
    submit(Submission(name="org/c", revision=COMMIT), owner)


def test_local_models_need_an_allowed_root_and_get_a_fingerprint(
    owner, release, settings, config_only_model
):
    allowed = config_only_model.parent / "elsewhere"
    settings.SUBMISSION_LOCAL_ROOTS = [allowed]
    # The refusal names the directory that is allowed.
    with pytest.raises(SubmissionError, match=f"SUBMISSION_LOCAL_ROOTS: {allowed}"):
        submit(Submission(name=str(config_only_model)), owner)
    settings.SUBMISSION_LOCAL_ROOTS = [config_only_model.parent]
    [job] = submit(Submission(name=str(config_only_model)), owner)
    assert job.model.revision.startswith("local-")
    assert job.model.params_billions is not None and job.model.params_billions < 0.001


def test_models_that_need_remote_code_are_refused(owner, release, settings, config_only_model):
    config = json.loads((config_only_model / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_evil.EvilModel"}
    (config_only_model / "config.json").write_text(json.dumps(config))
    settings.SUBMISSION_LOCAL_ROOTS = [config_only_model.parent]
    with pytest.raises(SubmissionError, match="never runs remote code"):
        submit(Submission(name=str(config_only_model)), owner)
    assert not LanguageModel.objects.exists()


def test_submissions_need_a_published_release(owner, db):
    with pytest.raises(SubmissionError, match="no published dataset release"):
        submit(Submission(name="org/a", revision=COMMIT), owner)


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_submissions_queue_one_job(owner, release):
    errors: list[str] = []
    barrier = threading.Barrier(4)

    def attempt() -> None:
        barrier.wait()
        try:
            submit(Submission(name="org/racy", revision=COMMIT), owner)
        except SubmissionError as exc:
            errors.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert EvaluationJob.objects.count() == 1
    assert LanguageModel.objects.count() == 1
    assert len(errors) == 3


def test_endpoints_on_allow_listed_hosts_are_accepted(owner, release, settings):
    settings.SUBMISSION_ENDPOINT_HOSTS = ["models.example.org"]
    [job] = submit(
        Submission(name="served-model", endpoint_url="https://models.example.org/v1"), owner
    )
    assert job.model.endpoint_url == "https://models.example.org/v1"
    with pytest.raises(SubmissionError, match="not accepted"):
        submit(Submission(name="other", endpoint_url="http://10.0.0.5:8000/v1"), owner)


def test_reruns_count_against_the_daily_limit(client, owner, release, settings):
    settings.SUBMISSIONS_PER_DAY = 1
    [job] = submit(Submission(name="org/a", revision=COMMIT), owner)
    EvaluationJob.objects.filter(pk=job.pk).update(status=JobStatus.FINISHED)
    client.force_login(owner)
    response = client.post(reverse("job-rerun", args=[job.pk]), follow=True)
    assert "limit of 1" in response.content.decode()
    assert EvaluationJob.objects.count() == 1


def test_a_site_without_secret_key_makes_its_own_private_one(tmp_path):
    from leaderboard.env import local_secret

    path = tmp_path / "secret_key"
    key = local_secret(path)
    assert len(key) >= 50 and local_secret(path) == key
    assert path.stat().st_mode & 0o777 == 0o600


def test_an_unreachable_hub_gives_a_clear_error_not_a_crash(client, owner, release, monkeypatch):
    from evaluation import model_check

    # As if the site believed it was online: the hub client still cannot connect.
    monkeypatch.setattr(model_check, "_offline", lambda: False)
    client.force_login(owner)
    response = client.post(reverse("submit"), form_data(revision="main"))
    assert response.status_code == 200
    assert "cannot be reached" in response.content.decode()
    response = client.post(reverse("submit"), form_data())
    assert response.status_code == 302
    assert "unreachable" in EvaluationJob.objects.get().events.first().message


def test_the_same_local_weights_cannot_be_submitted_twice_under_another_spelling(
    owner, release, settings, config_only_model
):
    settings.SUBMISSION_LOCAL_ROOTS = [config_only_model.parent]
    submit(Submission(name=str(config_only_model), precision="float32"), owner)
    for spelling in (f"{config_only_model}/", f"{config_only_model}/../{config_only_model.name}"):
        with pytest.raises(SubmissionError, match="already submitted"):
            submit(Submission(name=spelling, precision="float32"), owner)


@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_of_different_models_accept_exactly_the_daily_limit(
    owner, release, settings
):
    settings.SUBMISSIONS_PER_DAY = 5
    refused: list[str] = []
    barrier = threading.Barrier(10)

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            submit(Submission(name=f"org/parallel-{i}", revision=COMMIT), owner)
        except SubmissionError as exc:
            refused.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert EvaluationJob.objects.filter(requested_by=owner).count() == 5
    assert len(refused) == 5 and all("limit of 5" in message for message in refused)
