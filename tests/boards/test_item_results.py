"""A triple's page of model answers: each ranked model's latest choice on that item."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import dvb_evaluate, dvb_release, evaluate, make_model, make_release

pytestmark = pytest.mark.django_db


def test_it_lists_each_ranked_models_choice_on_the_triple(client):
    release = make_release("r1", per_cell=2, signal=False)
    alpha = make_model("org/alpha")
    beta = make_model("org/beta")
    evaluate(alpha, release, skill=1.0)
    evaluate(beta, release, skill=0.0)
    triple = release.items.first()
    triple_page = client.get(triple.get_absolute_url()).content.decode()
    url = reverse("item-results", args=["navab", release.version, triple.uid])
    assert url in triple_page

    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200
    assert alpha.display_name in body and beta.display_name in body
    mc = [s for s in page.context["samples"] if s.method == "mc"]
    assert {s.job.model.name: s.correct for s in mc} == {"org/alpha": True, "org/beta": False}
    assert page.context["summary"]["mc"] == (1, 2)


def test_unknown_triples_are_not_found(client):
    release = make_release("r1", per_cell=1, signal=False)
    assert (
        client.get(reverse("item-results", args=["navab", release.version, "nope"])).status_code
        == 404
    )


def test_an_items_results_show_token_counts_as_integers(client):
    release = dvb_release("dvb-tokens")
    countries = release.items.values_list("slices__birth_country", flat=True)
    job = dvb_evaluate(make_model("org/counted"), release, dict.fromkeys(countries, 1.0))
    sample = job.samples.first()
    sample.details |= {"tokens": {"answer_w": 96}, "loglikelihoods": {"answer_w": -592.28494}}
    sample.save(update_fields=["details"])
    url = reverse("item-results", args=["divervalue", release.version, sample.item.uid])
    page = client.get(url).content.decode()
    assert "answer_w 96</span>" in page and "96.000" not in page
    assert "answer_w -592.285</span>" in page
