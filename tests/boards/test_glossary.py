"""Words explained where they appear, from the benchmark's declaration."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from evaluation.benchmarks import get_benchmark
from tests.factories import evaluate, make_model, make_release, ranked_model

pytestmark = pytest.mark.django_db


def test_the_declaration_explains_its_methods_parts_and_words_once_each():
    navab = get_benchmark("navab")
    terms = navab.terms()
    assert terms["RS as option A"].section == "method-mc"
    assert terms["aj_ref"].text == navab.method("aj_ref").description
    (merged,) = navab.terms_for(["Multiple choice", "mc"])
    assert merged.label == "Multiple choice (mc)"
    dvb = get_benchmark("divervalue").terms()
    assert {"TIE", "margin", "OPA", "PAA (W share)", "answer_w"} <= set(dvb)
    assert navab.method("mc").part_label("half", "neg") == "RS as option A"


def test_the_board_explains_its_method_metric_and_parts_with_links(client, release):
    ranked_model("org/alpha", release, 0.8, 0.04)
    html = client.get(reverse("board", args=["navab"])).content.decode()
    caption = html[html.index("data-terms") :]
    navab = get_benchmark("navab")
    for label in ("S as option A", "RS as option A", "Correct rate"):
        assert escape(navab.terms()[label].text) in caption
    assert reverse("methodology", args=["navab"]) + "#method-mc" in caption


def test_item_results_name_the_half_and_explain_it(client):
    release = make_release("r-terms", per_cell=2, signal=False)
    evaluate(make_model("org/words"), release, methods=["mc"])
    item = release.items.first()
    url = reverse("item-results", args=["navab", release.version, item.uid])
    html = client.get(url).content.decode()
    assert "half neg" not in html and "half pos" not in html
    assert "· S as option A" in html or "· RS as option A" in html
    assert "data-terms" in html


def test_the_methodology_lists_every_word(client):
    html = client.get(reverse("methodology", args=["divervalue"])).content.decode()
    glossary = html[html.index('id="glossary-terms"') :]
    assert "<dt>TIE</dt>" in glossary and "<dt>PAA (paa)</dt>" in glossary
