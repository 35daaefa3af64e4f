"""Input PostgreSQL cannot store (a NUL byte) is refused with a 400 on every route, in JSON on
the API, before any view or query sees it."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.admindocs.views import extract_views_from_urlpatterns, simplify_regex
from django.core.cache import cache
from django.urls import get_resolver

from leaderboard.boards.params import ALL_COLUMNS
from tests.factories import dvb_evaluate, dvb_release, make_model, make_release, ranked_model

pytestmark = pytest.mark.django_db

# The routes a hostile client found answering 500, each with a NUL in a path segment or in a
# query parameter the view puts into a query.
REPORTED = [
    "/api/leaderboard/?q=%00",
    "/api/leaderboard/?family=%00",
    "/api/leaderboard/?release=%00",
    "/api/nations/%00/",
    "/api/modes/%00/",
    "/navab/releases/r1/items/UID%00/",
    "/navab/releases/r1/items/UID%00/results/",
    "/navab/board/?q=%00",
    "/navab/board/?family=%00",
    "/navab/board/?release=%00",
    "/navab/board/export.csv?q=%00",
    "/navab/board/export.csv?family=%00",
    "/navab/board/export.json?release=%00",
    "/navab/compare/?release=%00",
    "/models/MODEL/?release=%00",
    "/models/MODEL/?nation=%00",
    "/models/MODEL/?mode=%00",
    "/models/MODEL/?topic=%00",
]
# Every query parameter some view reads, so the sweep reaches each view's lookups.
PARAMETERS = [
    *("q", "family", "release", "nation", "mode", "method", "topic", "language", "uid"),
    *("status", "source", "type", "precision", "size", "sort", "order", "models", "model"),
    *("job", "kind", "correct", "is_demo", "page", "page_size", "ordering", "next", "col"),
    *("dimension", "metric", "benchmark", "region", "target", "track"),
    *ALL_COLUMNS,
]
PLACEHOLDER = re.compile(r"<[^>]+>")


@pytest.fixture
def data():
    release = make_release("r1", per_cell=4, signal=False)
    model = ranked_model("org/m", release, 0.7)
    return {"UID": release.items.first().uid, "MODEL": str(model.pk)}


def assert_refused(response, url: str) -> None:
    assert response.status_code in (400, 404), (url, response.status_code)
    if url.startswith("/api/"):
        assert response["Content-Type"] == "application/json", url
        assert "detail" in response.json()


@pytest.mark.parametrize("url", REPORTED)
def test_it_refuses_a_nul_on_each_reported_route(client, data, url):
    for name, value in data.items():
        url = url.replace(name, value)
    response = client.get(url)
    assert response.status_code == 400, url
    assert_refused(response, url)


def test_the_page_says_why(client, data):
    response = client.get("/navab/board/?q=%00")
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_it_refuses_a_nul_in_a_cookie(client, data):
    # Cookie values are unquoted with octal escapes: `"...\000"` becomes a NUL in the session key.
    response = client.get("/api/nations/", HTTP_COOKIE='sessionid="abcdefghij\\000"')
    assert response.status_code == 400
    assert response.json()["detail"]


def test_it_lets_ordinary_requests_through(client, data):
    assert client.get("/navab/board/?q=org").status_code == 200
    assert client.get("/api/leaderboard/?family=org").status_code == 200


def routes() -> list[str]:
    patterns = extract_views_from_urlpatterns(get_resolver().url_patterns)
    return sorted({simplify_regex(regex).replace("\\.", ".") for _, regex, _, _ in patterns})


def test_it_refuses_a_nul_on_every_route(client, data, admin_user):
    """Every URL pattern, as a signed-in staff user (who reaches the admin and drafts), with a
    NUL in each path segment and in every query parameter the site reads."""
    client.force_login(admin_user)
    query = "&".join(f"{name}=%00" for name in PARAMETERS)
    swept = routes()
    assert len(swept) > 50  # the sweep reads the URL configuration, not a list kept by hand
    for route in swept:
        in_query = PLACEHOLDER.sub(lambda m: data["MODEL"], route) + "?" + query
        in_path = PLACEHOLDER.sub(lambda m: data["MODEL"] + "%00", route)
        for url in {in_query, in_path} - {route}:
            for method in (client.get, client.post):
                assert_refused(method(url), url)


@pytest.mark.parametrize(
    "url",
    [
        "/api/benchmarks/navab%00/items/",
        "/api/benchmarks/navab/items/?nation=%00",
        "/api/benchmarks/divervalue/items/?region=%00",
        "/api/benchmarks/navab/releases/r1%00/",
        "/api/benchmarks/navab/leaderboard/?metric=%00",
        "/api/benchmarks/divervalue/leaderboard/?region=%00",
        "/api/scores/?benchmark=%00",
        "/api/benchmarks/divervalue/disparity/?dimension=%00",
        "/api/benchmarks/navab/disparity/?method=%00",
        "/api/models/MODEL/disparity/?release=%00",
    ],
)
def test_it_refuses_a_nul_under_every_benchmarks_api(client, data, url):
    response = client.get(url.replace("MODEL", data["MODEL"]))
    assert response.status_code == 400, url
    assert_refused(response, url)


# The pages and endpoints added with disparity, maps and DiverValue-Bench's population views,
# with what a hostile or careless client sends besides NULs.
ODD_VALUES = ["%ff%fe", "%c3%28", "x" * 3000, "%e2%80%ae", "nonsense", "-1", "1e999", "%0a"]
ODD_ROUTES = [
    "/divervalue/disparity/",
    "/divervalue/disparity/export.csv",
    "/divervalue/map/",
    "/navab/disparity/",
    "/navab/map/",
    "/api/benchmarks/divervalue/disparity/",
    "/api/models/MODEL/disparity/",
    "/models/MODEL/",
]


def test_odd_bytes_and_unknown_values_on_the_new_views_are_never_a_server_error(client, data):
    margins = {"United Kingdom": 6.0, "Japan": 0.0, "Nigeria": -6.0, "Brazil": 2.0, "Fiji": -9.0}
    dvb_model = str(dvb_evaluate(make_model("org/dvb"), dvb_release(), margins).model_id)
    answered = set()
    for route in ODD_ROUTES:
        for model in {data["MODEL"], dvb_model} if "MODEL" in route else {""}:
            for name in ("dimension", "method", "release", "sort", "metric"):
                for value in ODD_VALUES:
                    url = f"{route.replace('MODEL', model)}?{name}={value}"
                    cache.clear()  # the API's throttle counts these: each must reach its view
                    status = client.get(url).status_code
                    assert status < 500, (url[:100], status)
                    answered.add(status)
    cache.clear()
    assert 429 not in answered and ({200, 400} <= answered or {200, 404} <= answered), answered


@pytest.mark.parametrize("field", ["model_type", "precision", "provider", "name"])
def test_a_lone_surrogate_in_a_json_body_is_a_400_not_a_500(owner, field):
    """`"\\udcff"` is valid JSON but no text: a choice field quoting it in its error could not
    render that error (a 500 before the API's parser refused it)."""
    from rest_framework.test import APIClient

    from tests.evals.test_api import authenticate

    make_release(per_cell=1)
    api = APIClient()
    authenticate(api, owner)
    body = {"name": "org/model", "model_type": "instruct", field: "a\\udcffb"}
    raw = json.dumps(body).replace("\\\\udcff", "\\udcff").encode()
    response = api.post("/api/models/", raw, content_type="application/json")
    cache.clear()  # the submission throttle counted it: later tests start afresh
    assert response.status_code == 400
    assert "surrogate" in response.json()["detail"]
