"""Accounts: sign-up, the profile's API token, and the sign-up throttle."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.urls import reverse
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-unusual-passphrase-91"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def signup_data(username: str) -> dict[str, str]:
    return {
        "username": username,
        "email": f"{username}@example.org",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }


def test_it_signs_up_logs_in_and_goes_to_the_submission_form(client):
    response = client.post(reverse("signup"), signup_data("ada"))
    assert response.status_code == 302 and response["Location"] == reverse("submit")
    assert User.objects.filter(username="ada").exists()
    assert client.get(reverse("submit")).status_code == 200


def test_it_never_follows_next_to_another_site(client):
    response = client.post(
        reverse("signup") + "?next=https://evil.example/phish", signup_data("bob")
    )
    assert response["Location"] == reverse("submit")


def test_the_profile_shows_and_rotates_the_api_token(owner_client, owner):
    first = Token.objects.get_or_create(user=owner)[0].key
    assert first in owner_client.get(reverse("profile")).content.decode()
    owner_client.post(reverse("profile"), {"action": "rotate-token"})
    assert Token.objects.get(user=owner).key != first


def test_sign_ups_from_one_address_are_throttled(client):
    for i in range(5):
        assert client.post(reverse("signup"), signup_data(f"user{i}")).status_code == 302
        client.logout()
    response = client.post(reverse("signup"), signup_data("user5"))
    assert response.status_code == 429
    assert not User.objects.filter(username="user5").exists()


def test_failed_sign_ups_do_not_count_against_the_address(client):
    bad = {**signup_data("typo"), "password2": "something else entirely"}
    for _ in range(10):
        assert client.post(reverse("signup"), bad).status_code == 200
    assert client.post(reverse("signup"), signup_data("dora")).status_code == 302
