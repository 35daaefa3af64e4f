"""The OpenAPI schema documents the errors each operation answers, and the submission `name`
exactly as the API validates it."""

from __future__ import annotations

import jsonschema_rs
import pytest

from leaderboard.evals.api import SubmissionSerializer

pytestmark = pytest.mark.django_db
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_it_documents_the_errors_of_every_operation(schema):
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    assert len(operations) >= 19
    for path, method, operation in operations:
        expected = {"400", "401", "429"}
        expected |= {"403"} if method != "get" else {"404"}
        expected |= {"404"} if "{" in path else set()
        documented = set(operation["responses"])
        assert expected <= documented, (method, path, documented)
        for status in expected:
            body = operation["responses"][status]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/Error"}


def test_the_error_schema_fits_the_bodies_the_api_sends(schema, client):
    error = jsonschema_rs.validator_for(schema["components"]["schemas"]["Error"])
    bodies = [
        client.get("/api/nations/?q=%00").json(),  # refused by the middleware
        client.get("/api/nowhere/").json(),  # no such route
        client.get("/api/jobs/?model=x").json(),  # a filter's field errors
        client.post("/api/models/", {"name": "org/x"}).json(),  # no credentials
    ]
    for body in bodies:
        assert error.is_valid(body), body


# Names the old schema called valid (any string up to 200 characters) that the API refuses,
# names it accepts, and the edges of the pattern.
NAMES = [
    "org/model-1.5_b",
    "/srv/models/tiny-model",
    "gpt-4o",
    "llama3:8b",
    "not a hub id",
    " org/model",
    "org/model\n",
    "org/\x00x",
    "naïve/model",
    "-org/model",
    "",
    "   ",
    "/",
    "o" * 200,
    "o" * 201,
]


@pytest.mark.parametrize("name", NAMES)
def test_it_documents_the_submission_name_exactly_as_it_validates_it(schema, name):
    documented = jsonschema_rs.validator_for(
        schema["components"]["schemas"]["Submission"]["properties"]["name"]
    ).is_valid(name)
    serializer = SubmissionSerializer(data={"name": name})
    serializer.is_valid()
    assert documented == ("name" not in serializer.errors), serializer.errors


def test_a_refused_name_says_what_is_accepted(owner_client):
    response = owner_client.post(
        "/api/models/", {"name": "not a hub id"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "organisation/model-name" in response.json()["name"][0]
