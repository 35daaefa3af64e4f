"""Missing pages and refused actions get the site's own pages with the reason."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_missing_model_gets_a_styled_not_found_page(client):
    response = client.get("/models/999999/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "<h1>Not found</h1>" in body and "leaderboard" in body.lower()


def test_a_refused_action_explains_itself(client, django_user_model):
    from leaderboard.evals.models import LanguageModel

    model = LanguageModel.objects.create(name="org/x", revision="c" * 40)
    client.force_login(django_user_model.objects.create_user("eve", password="x-long-pass-91"))
    response = client.get(f"/models/{model.pk}/align/")
    assert response.status_code == 403
    assert "submitter or staff" in response.content.decode()
