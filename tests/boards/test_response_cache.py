"""Whole board responses (page, exports, API) cached per board version and request: one query
when warm, conditional GET, compression, nothing of one visitor shown to another, and warm
again right after a change."""

from __future__ import annotations

import gzip
import warnings
from email.utils import formatdate
from pathlib import Path

import pytest
from django.core.cache.backends.base import CacheKeyWarning
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.authtoken.models import Token

from leaderboard.boards.cache import invalidate_boards
from leaderboard.boards.responses import request_key, storable
from leaderboard.evals.runner import store_results
from tests.boards.test_performance import running_job, scored_result
from tests.factories import make_model, make_release, ranked_model

pytestmark = pytest.mark.django_db

PAGE = reverse("board", args=["navab"])
JSON = reverse("board-export", args=["navab", "json"])
CSV = reverse("board-export", args=["navab", "csv"])
API = "/api/benchmarks/navab/leaderboard/"
LEGACY_API = "/api/leaderboard/"

TARGETS = [
    (PAGE, {}),
    (PAGE, {"nation": "us", "mode": "official", "method": "aj", "sort": "params"}),
    (JSON, {"nation": "fr"}),
    (CSV, {}),
    (API, {"page_size": "500"}),
    (LEGACY_API, {"page_size": "500", "method": "aj"}),
]


def add_models(release, count: int) -> None:
    for i in range(count):
        ranked_model(f"org/model-{i:03d}", release, 0.3 + (i % 60) / 100)


@pytest.mark.parametrize("count", [10, 200])
@pytest.mark.parametrize(("url", "params"), TARGETS)
def test_a_warm_request_costs_one_query_whatever_the_number_of_models(
    client, release, django_assert_max_num_queries, count, url, params
):
    add_models(release, count)
    first = client.get(url, params)
    assert first.status_code == 200
    with django_assert_max_num_queries(1):  # the board version, nothing else
        again = client.get(url, params)
    assert again.status_code == 200
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    if url == API:
        assert len(again.json()["results"]) == count


def test_the_order_of_parameters_does_not_make_another_entry(
    client, release, django_assert_max_num_queries
):
    add_models(release, 3)
    client.get(PAGE + "?nation=us&method=aj")
    with django_assert_max_num_queries(1):
        assert client.get(PAGE + "?method=aj&nation=us").status_code == 200


def test_a_huge_query_string_makes_a_short_key_of_its_own(client, release):
    add_models(release, 3)
    huge = "x" * 5000
    with warnings.catch_warnings():
        # Django warns of keys memcached would refuse (over 250 bytes): here, an error.
        warnings.simplefilter("error", CacheKeyWarning)
        assert client.get(PAGE, {"q": huge}).status_code == 200
        assert client.get(API, {"q": huge + "y"}).status_code == 200
    keys = {request_key(RequestFactory().get(PAGE, {"q": huge + end})) for end in ("", "y")}
    assert len(keys) == 2
    assert all(len(key) < 100 for key in keys)


def test_links_keep_the_scheme_each_visitor_came_by(client, release):
    # The API's page links are absolute: one rendering per scheme, as per host.
    add_models(release, 3)
    plain = client.get(API, {"page_size": "1"}).json()["next"]
    secure = client.get(API, {"page_size": "1"}, secure=True).json()["next"]
    assert plain.startswith("http://") and secure.startswith("https://")


def test_it_answers_not_modified_to_its_etag_or_a_later_date(client, release):
    add_models(release, 3)
    response = client.get(PAGE)
    etag, modified = response["ETag"], response["Last-Modified"]
    assert etag.startswith('"') and modified

    assert client.get(PAGE, headers={"if-none-match": etag}).status_code == 304
    assert client.get(PAGE, headers={"if-modified-since": modified}).status_code == 304
    earlier = formatdate(0, usegmt=True)
    assert client.get(PAGE, headers={"if-modified-since": earlier}).status_code == 200
    assert client.get(PAGE, headers={"if-none-match": '"other"'}).status_code == 200

    invalidate_boards()
    ranked_model("org/newcomer", release, 0.99)
    changed = client.get(PAGE, headers={"if-none-match": etag})
    assert changed.status_code == 200
    assert "org/newcomer" in changed.content.decode()
    assert changed["ETag"] != etag


def test_it_compresses_for_clients_that_ask_and_keeps_one_etag_per_encoding(client, release):
    add_models(release, 3)
    plain = client.get(JSON)
    packed = client.get(JSON, headers={"accept-encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert int(packed["Content-Length"]) == len(packed.content) < len(plain.content)
    assert packed["ETag"] != plain["ETag"]
    for response in (plain, packed):
        assert {"Accept-Encoding", "Cookie"} <= {v.strip() for v in response["Vary"].split(",")}
    refused = client.get(JSON, headers={"accept-encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused
    revalidated = client.get(
        JSON, headers={"accept-encoding": "gzip", "if-none-match": packed["ETag"]}
    )
    assert revalidated.status_code == 304


def test_signed_in_visitors_get_their_own_page_and_nobody_gets_theirs(
    client, owner_client, other_client, release
):
    add_models(release, 3)
    owner_page = owner_client.get(PAGE).content.decode()
    assert "owner" in owner_page and "csrfmiddlewaretoken" in owner_page

    for _ in range(2):  # built, then served from the cache
        anonymous = client.get(PAGE).content.decode()
        assert "Log in" in anonymous
        assert "csrfmiddlewaretoken" not in anonymous and ">owner<" not in anonymous

    other_page = other_client.get(PAGE).content.decode()
    assert ">other<" in other_page and ">owner<" not in other_page
    assert "Log in" not in other_page


def test_a_rendering_that_used_a_csrf_token_or_set_a_cookie_is_never_kept(release):
    add_models(release, 1)
    rendered = Client().get(PAGE)
    request = RequestFactory().get(PAGE)
    assert storable(request, rendered) is not None

    get_token(request)
    assert storable(request, rendered) is None
    rendered.set_cookie("seen", "1")
    assert storable(RequestFactory().get(PAGE), rendered) is None


def test_a_staff_tokens_draft_board_is_not_shown_to_anonymous_visitors(client, staff, release):
    draft = make_release("draft-1", per_cell=4, published=False, signal=False)
    ranked_model("org/on-draft", draft, 0.7)
    token = Token.objects.create(user=staff)
    as_staff = client.get(
        API, {"release": "draft-1"}, headers={"authorization": f"Token {token.key}"}
    )
    assert as_staff.status_code == 200
    assert [r["model"] for r in as_staff.json()["results"]] == ["org/on-draft"]
    assert client.get(API, {"release": "draft-1"}).status_code == 404


def test_unknown_views_are_404s_and_not_kept(client, release):
    add_models(release, 1)
    for _ in range(2):
        assert client.get(PAGE, {"nation": "xx"}).status_code == 404
        assert client.get(API, {"method": "nope"}).status_code == 404


def test_every_cached_view_shows_new_scores_once_they_are_committed(
    client, release, tmp_path: Path, django_capture_on_commit_callbacks
):
    """Scores land through the worker's own path (store_results -> job_finished after
    commit); no rendering kept for the old version is served after it."""
    add_models(release, 5)
    for url, params in TARGETS:
        assert client.get(url, params).status_code == 200  # kept
    newcomer = make_model("org/newcomer")
    job = running_job(newcomer, release)
    with django_capture_on_commit_callbacks(execute=True):
        assert store_results(job, "token-1", scored_result(newcomer, release, 0.99), tmp_path)

    for url, params in TARGETS:
        response = client.get(url, params)
        assert response.status_code == 200
        assert b"org/newcomer" in response.content, url
