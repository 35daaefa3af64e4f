"""Every JSON body goes through one parser: whatever it holds is a 400 at worst, never a 500."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from rest_framework.exceptions import ParseError
from rest_framework.test import APIClient

from leaderboard.api.parsers import StrictJSONParser
from leaderboard.evals.models import EvaluationJob, JobStatus
from tests.evals.test_api import authenticate
from tests.factories import make_model, make_release

DEEP = 1000  # 2 KB of brackets: past Python's recursion limit in the decoder


def nested(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


BODIES = {
    "lists": nested(DEEP),
    "objects": '{"a":' * DEEP + "1" + "}" * DEEP,
    "in a field": '{"name": "org/model", "benchmarks": ' + nested(DEEP) + "}",
    "a hundred levels, deeper than any endpoint reads": '{"name": ' + nested(100) + "}",
}


@pytest.fixture
def api(owner) -> APIClient:
    client = APIClient()
    authenticate(client, owner)
    yield client
    cache.clear()  # the submission throttle counted these posts: later tests start afresh


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_a_deeply_nested_submission_is_a_400(api, body):
    make_release(per_cell=1)
    response = api.post("/api/models/", body.encode(), content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert "nested more than" in response.json()["detail"]
    assert not EvaluationJob.objects.exists()


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_a_deeply_nested_body_is_no_500_on_any_endpoint_that_takes_a_post(api, owner, body):
    release = make_release(per_cell=1)
    job = EvaluationJob.objects.create(
        model=make_model("m"), release=release, status=JobStatus.QUEUED, requested_by=owner
    )
    for url in (f"/api/jobs/{job.pk}/cancel/", "/api/benchmarks/", "/api/models/1/"):
        response = api.post(url, body.encode(), content_type="application/json")
        assert response.status_code < 500, (url, response.content[:300])


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_the_parser_refuses_deep_nesting_for_every_view(body):
    with pytest.raises(ParseError, match="nested more than"):
        StrictJSONParser().parse(io.BytesIO(body.encode()), "application/json", {})


def test_the_parser_keeps_what_an_endpoint_takes():
    body = '{"name": "org/model", "benchmarks": ["navab"], "options": {"a": [1, {"b": 2}]}}'
    parsed = StrictJSONParser().parse(io.BytesIO(body.encode()), "application/json", {})
    assert parsed["options"] == {"a": [1, {"b": 2}]}
