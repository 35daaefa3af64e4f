"""What a request builds for the cache (a board, its figures, its rows) is stored once its
response is sent, not before: the visitor who builds a board does not wait for it to be
written. Within the request it is built once; outside a request it is stored at once."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.http import QueryDict

from leaderboard.boards.cache import cached_value, hold_stores, store_held, versioned_key
from leaderboard.boards.params import parse_board_query
from tests.factories import ranked_model

pytestmark = pytest.mark.django_db


def counted_build(built: list[str]):
    def build() -> str:
        built.append("built")
        return "value"

    return build


def test_a_request_stores_what_it_built_once_its_response_is_sent():
    built: list[str] = []
    hold_stores()
    try:
        assert cached_value("thing", counted_build(built)) == "value"
        assert cached_value("thing", counted_build(built)) == "value"  # the request's own
        assert built == ["built"]
        assert cache.get(versioned_key("thing")) is None
    finally:
        store_held()
    assert cache.get(versioned_key("thing")) == "value"
    assert cached_value("thing", counted_build(built)) == "value" and built == ["built"]


def test_outside_a_request_a_value_is_stored_at_once():
    assert cached_value("other", lambda: "value") == "value"
    assert cache.get(versioned_key("other")) == "value"


def test_a_served_board_is_in_the_cache_when_its_response_has_been_sent(client, release):
    ranked_model("org/first", release, 0.5)
    assert client.get("/navab/board/").status_code == 200
    query = parse_board_query(QueryDict(""), staff=False, benchmark="navab")
    stored = cache.get(versioned_key(query.cache_key()))
    assert [row.name for row in stored.rows] == ["org/first"]
