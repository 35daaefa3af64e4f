"""Missing pages and refused actions get the site's own pages with the reason."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_missing_model_gets_a_styled_not_found_page(client):
    response = client.get("/models/999999/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "<h1>Not found</h1>" in body and "leaderboard" in body.lower()


def test_a_refused_action_explains_itself(other_client):
    from leaderboard.evals.models import LanguageModel

    model = LanguageModel.objects.create(name="org/x", revision="c" * 40)
    response = other_client.get(f"/models/{model.pk}/align/")
    assert response.status_code == 403
    assert "submitter or staff" in response.content.decode()


def test_an_unknown_api_address_gets_json_not_found(client):
    for url in ("/api/nowhere/", "/api/nations/a/b/", "/api/models/1/extra/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json", url
        assert response.json() == {"detail": "Not found."}


def test_a_request_django_refuses_gets_json_on_the_api(client):
    response = client.get("/api/nations/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}
    assert "ALLOWED_HOSTS" not in response.content.decode()


def test_a_crash_under_the_api_is_answered_in_json(rf):
    from leaderboard.errors import server_error

    response = server_error(rf.get("/api/jobs/1/"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert b"Server error" in server_error(rf.get("/board/")).content
