"""The URLs the site had before it hosted several benchmarks answer with permanent redirects to
NaVAB's pages, the query string kept; a release's links go to its own benchmark's pages."""

from __future__ import annotations

import pytest

from tests.factories import add_triples, make_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def uid() -> str:
    release = make_release("r1")
    (item,) = add_triples(release, "us", "quoted", 1)
    return item.uid


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/board/", "/navab/board/"),
        (
            "/board/?nation=us&mode=official&method=aj",
            "/navab/board/?nation=us&mode=official&method=aj",
        ),
        ("/board/export.csv?mode=quoted", "/navab/board/export.csv?mode=quoted"),
        ("/triples/", "/navab/items/"),
        ("/triples/?nation=us&q=tax", "/navab/items/?nation=us&q=tax"),
        ("/triples/download.jsonl?nation=us", "/navab/items/download.jsonl?nation=us"),
        ("/releases/", "/navab/releases/"),
        ("/releases/r1/", "/navab/releases/r1/"),
        ("/releases/r1/files/triples.csv", "/navab/releases/r1/files/items.csv"),
        ("/releases/r1/triples/UID/", "/navab/releases/r1/items/UID/"),
        ("/releases/r1/triples/UID/results/", "/navab/releases/r1/items/UID/results/"),
        ("/compare/?models=1,2", "/navab/compare/?models=1,2"),
        ("/methodology/?model=3", "/navab/methodology/?model=3"),
    ],
)
def test_it_redirects_each_old_url_permanently_to_navabs(client, uid, old, new):
    response = client.get(old.replace("UID", uid))
    assert response.status_code == 301
    assert response["Location"] == new.replace("UID", uid)
    # The target answers (a download of a file not built yet is built on demand).
    assert client.get(response["Location"]).status_code == 200


def test_a_release_of_another_benchmark_goes_to_its_own_pages(client):
    make_release("dvb-1", benchmark="divervalue", title="DVB", signal=False)
    response = client.get("/releases/dvb-1/")
    assert response.status_code == 301
    assert response["Location"] == "/divervalue/releases/dvb-1/"


def test_a_path_naming_no_benchmark_is_not_found(client, uid):
    assert client.get("/nobench/board/").status_code == 404
    assert client.get(f"/divervalue/releases/r1/items/{uid}/").status_code == 404
