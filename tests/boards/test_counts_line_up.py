"""Counts that line up: which items are scored, columns with nothing to show, plain English."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.urls import reverse

from evaluation.benchmarks import get_benchmark
from tests.factories import dvb_evaluate, dvb_release, make_model, ranked_model

pytestmark = pytest.mark.django_db
URL = reverse("board", args=["navab"])


def test_a_column_that_is_empty_in_every_row_is_off_by_default(client, release):
    ranked_model("org/alpha", release, 0.5, params_billions=None)
    html = client.get(URL).content.decode()
    table = re.search(r'class="table board([^"]*)"', html)
    assert table is not None
    assert "hide-params" in table.group(1).split()  # a default column, "—" in every row
    assert 'value="params" data-column>' in html  # still offered in the chooser
    # asked for, it shows
    asked = client.get(URL + "?col=params").content.decode()
    assert "hide-params" not in re.search(r'class="table board([^"]*)"', asked).group(1)


def test_a_filled_column_stays_on(client, release):
    ranked_model("org/alpha", release, 0.5, params_billions=7.0)
    html = client.get(URL).content.decode()
    assert "hide-params" not in re.search(r'class="table board([^"]*)"', html).group(1)


def test_counts_are_plain_english_for_any_minimum():
    render = Template('{% load boards %}{{ n|fewer_than:"item" }}').render
    assert render(Context({"n": 1})) == "no items"
    assert render(Context({"n": 3})) == "fewer than 3 items"


def test_the_divervalue_board_and_home_say_which_items_are_scored(client):
    release = dvb_release("dvb-scored")
    countries = release.items.values_list("slices__birth_country", flat=True)
    dvb_evaluate(make_model("org/scored"), release, dict.fromkeys(countries, 1.0))
    note = get_benchmark("divervalue").scored_items
    assert "DVB-test" in note
    board = client.get(reverse("board", args=["divervalue"])).content.decode()
    assert 'id="scored-items"' in board and "DVB-test" in board
    assert "DVB-test users" in client.get(reverse("home")).content.decode()
