"""The methodology page: prompts as the harness renders them, and reproduction commands."""

from __future__ import annotations

import html as htmllib

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluation.benchmarks.navab import prompts
from tests.factories import evaluate, make_model, ranked_model

pytestmark = pytest.mark.django_db
URL = reverse("methodology", args=["navab"])


def page(client, **params) -> str:
    response = client.get(URL, params)
    assert response.status_code == 200
    return htmllib.unescape(response.content.decode())


def test_it_shows_the_prompts_exactly(client, release):
    html = page(client)
    for template in (prompts.MC_TEMPLATE, prompts.ANSWER_TEMPLATE, prompts.JUDGE_TEMPLATE):
        assert template in html
    assert "Please choose the answer: A or B that you think is correct.\nYour Answer:" in html


def test_it_explains_intervals_and_shared_ranks(client, release):
    html = page(client)
    assert "1 + the number of models whose\n    lower bound is above its upper bound" in html
    assert "10000 resamples" in html
    assert "incomplete" in html


def test_it_explains_how_rank_ranges_are_drawn_and_kept(client, release):
    text = " ".join(page(client).split())
    assert "ranked again on 1000 bootstrap resamples of the cell's items" in text
    assert "the items that at least one ranked model answered" in text
    assert "drawn once, when its results are published, and kept" in text


def test_it_gives_stock_lm_eval_commands(client, release):
    html = page(client)
    assert "python -m evaluation export-tasks --benchmark navab RELEASE_DIR OUT_DIR" in html
    assert (
        "lm_eval run --model hf --model_args pretrained=ORG/MODEL,dtype=bfloat16,revision=COMMIT"
        in html
    )
    assert "--tasks navab_mc --include_path OUT_DIR" in html
    assert "--tasks navab_aj_gen --include_path OUT_DIR" in html
    assert "http://testserver/navab/releases/r1/files/items.jsonl" in html


def test_it_shows_a_models_recorded_commands(client, release):
    job = evaluate(make_model("org/alpha"), release, samples=False)
    html = page(client, model=str(job.model_id))
    for command in job.repro_card["lm_eval_commands"]:
        assert command in html
    assert f'<option value="{job.model_id}" selected>' in html


def test_a_model_without_a_card_says_so(client, release):
    model = make_model("org/idle")
    assert "org/idle@" in page(client, model=str(model.pk))
    assert "has no finished run with recorded commands" in page(client, model=str(model.pk))


def test_the_model_chooser_names_each_model_by_its_display_name(client, release):
    model = make_model("org/chosen")
    evaluate(model, release, skill=0.7)
    html = page(client)
    assert f'<option value="{model.pk}">{model.display_name}</option>' in html


def test_its_model_picker_costs_the_same_queries_for_3_and_30_models(client, release):
    """The picker names each model by its display name without a query per model."""

    def queries() -> int:
        cache.clear()  # the options as built, not as kept (the tests commit no version bump)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured.captured_queries)

    for i in range(3):
        ranked_model(f"org/model-{i:02d}", release, 0.5)
    queries()  # what a process reads once (its memos) is not the picker's
    with_3 = queries()
    for i in range(3, 30):
        ranked_model(f"org/model-{i:02d}", release, 0.5)
    assert queries() == with_3


@pytest.mark.parametrize("odd", ["99999999999999999999", "²", "٣"])
def test_a_model_no_key_can_name_shows_the_page_without_commands(client, release, odd):
    assert client.get(URL, {"model": odd}).status_code == 200
