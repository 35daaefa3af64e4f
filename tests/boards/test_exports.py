"""CSV and JSON exports of a board view: the same rows as the page, filters included."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from leaderboard.boards.queries import BoardRow
from tests.factories import (
    NATIONS,
    finished_job,
    make_model,
    ranked_model,
    set_scores,
    uniform_cells,
)

pytestmark = pytest.mark.django_db


def export(client, fmt, params=None):
    return client.get(reverse("board-export", args=["navab", fmt]), params or {})


@pytest.fixture
def models(release):
    ranked_model("org/instruct-7b", release, 0.8, model_type="instruct", params_billions=7.0)
    ranked_model("org/base-1b", release, 0.5, model_type="base", params_billions=1.0)
    partial = make_model("org/partial")
    set_scores(finished_job(partial, release), uniform_cells(0.9, nations=["us"]))


def test_csv_has_the_boards_rows_in_order_with_intervals(client, models):
    response = export(client, "csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"] == 'attachment; filename="navab-r1-overall-quoted-mc.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["model"], r["rank"], r["complete"]) for r in rows] == [
        ("org/instruct-7b", "1", "True"),
        ("org/base-1b", "2", "True"),
        ("org/partial", "", "False"),
    ]
    assert float(rows[0]["score"]) == pytest.approx(0.8)
    assert float(rows[0]["ci_low"]) < 0.8 < float(rows[0]["ci_high"])
    assert rows[0]["us_n"] == "100"
    assert rows[2]["cn"] == ""


def test_exports_respect_filters_search_and_view(client, models):
    rows = list(
        csv.DictReader(io.StringIO(export(client, "csv", {"size": "lt3"}).content.decode()))
    )
    assert [r["model"] for r in rows] == ["org/base-1b"]
    assert rows[0]["rank"] == "2"  # filters hide rows; ranks stay those of the whole board
    payload = json.loads(export(client, "json", {"nation": "us", "q": "partial"}).content)
    assert payload["nation"] == "us"
    assert payload["filters"]["q"] == "partial"
    assert [(r["model"], r["rank"]) for r in payload["rows"]] == [("org/partial", 1)]


def test_json_describes_its_view(client, models):
    response = export(
        client, "json", {"mode": "official", "method": "aj", "size": "lt3", "sort": "name"}
    )
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="navab-r1-overall-official-aj.json"'
    )
    payload = json.loads(response.content)
    assert {
        k: payload[k]
        for k in ("release", "nation", "mode", "method", "sort", "order", "total_models")
    } == {
        "release": "r1",
        "nation": "overall",
        "mode": "official",
        "method": "aj",
        "sort": "name",
        "order": "asc",
        "total_models": 3,
    }
    assert payload["filters"]["size"] == ["lt3"]
    assert [r["model"] for r in payload["rows"]] == ["org/base-1b"]
    assert list(payload["rows"][0]) == BoardRow.export_fields(list(NATIONS), ["pos", "neg"])


def test_an_empty_csv_still_has_its_header(client, release):
    text = export(client, "csv").content.decode()
    assert text.strip() == ",".join(BoardRow.export_fields(list(NATIONS), ["pos", "neg"]))


def test_other_formats_are_not_found(client, release):
    assert export(client, "xlsx").status_code == 404


def test_csv_never_hands_a_spreadsheet_a_formula(client, release):
    ranked_model("=HYPERLINK(evil)", release, 0.7, family="@cmd")
    rows = list(csv.DictReader(io.StringIO(export(client, "csv").content.decode())))
    assert rows[0]["model"] == "'=HYPERLINK(evil)"
    assert rows[0]["family"] == "'@cmd"
    assert float(rows[0]["score"]) == pytest.approx(0.7)
