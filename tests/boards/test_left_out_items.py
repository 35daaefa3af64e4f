"""Items longer than a model's context were left out of its run (never cut): the model page
and the board say how many, so a smaller n is not read as the release's."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from django.urls import reverse

from tests.factories import dvb_evaluate, dvb_release, make_model

pytestmark = pytest.mark.django_db

MARGINS = {"United Kingdom": 3.0, "Japan": 0.5, "Nigeria": -1.0, "Brazil": 1.5, "Fiji": -9.0}
LEFT_OUT = {
    "context": 256,
    "n": 3,
    "cells": [{"slices": {"birth_country": "Japan"}, "n": 3}],
}


@pytest.fixture
def jobs():
    release = dvb_release()
    short = dvb_evaluate(make_model("org/short-context"), release, MARGINS)
    short.repro_card = {**short.repro_card, "too_long": {"opa": LEFT_OUT}}
    short.save(update_fields=["repro_card"])
    whole = dvb_evaluate(make_model("org/long-context"), release, MARGINS)
    return short, whole


def text(response) -> str:
    assert response.status_code == 200
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_model_page_summary_says_how_many_items_were_left_out(client, jobs):
    short, whole = jobs
    page = text(client.get(short.model.get_absolute_url()))
    assert "OPA: 3 items longer than this model's context (256 tokens" in page
    assert "were left out, never cut: its n is smaller than the release's" in page
    assert "left out, never cut" not in text(client.get(whole.model.get_absolute_url()))


def test_the_board_names_the_model_whose_items_were_left_out(client, jobs):
    short, whole = jobs
    page = text(client.get(reverse("board", args=["divervalue"]), {"method": "opa"}))
    assert f"{short.model.display_name}: 3 OPA items longer than its context (256 tokens" in page
    assert f"{whole.model.display_name}: " not in page
