"""Comparing 2-4 models: paired per-cell deltas and the items where they disagree."""

from __future__ import annotations

import html as htmllib
import re
from collections import defaultdict

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leaderboard.boards.cache import invalidate_boards
from leaderboard.boards.compare import compare
from leaderboard.evals.models import SampleResult
from tests.factories import dvb_evaluate, dvb_release, evaluate, make_model, ranked_model

pytestmark = pytest.mark.django_db
URL = reverse("compare", args=["navab"])


@pytest.fixture
def pair(release):
    strong = make_model("org/strong")
    weak = make_model("org/weak")
    evaluate(strong, release, skill=0.9)
    evaluate(weak, release, skill=0.3)
    return strong, weak


def disagreeing_items(a, b, method=None):
    answers = {}
    samples = SampleResult.objects.filter(job__model__in=[a, b])
    if method:
        samples = samples.filter(method=method)
    for model_id, item_id, meth, chosen in samples.values_list(
        "job__model_id", "item_id", "method", "chosen"
    ):
        answers.setdefault((item_id, meth), {})[model_id] = chosen
    return {key for key, by_model in answers.items() if len(set(by_model.values())) > 1}


def test_it_pairs_every_cell_and_tests_the_difference(release, pair):
    strong, weak = pair
    result = compare(release, [strong.pk, weak.pk])
    assert [m.name for m in result.models] == ["org/strong", "org/weak"]
    assert len(result.cells) == 5 * 2 * 2
    for cell in result.cells:
        score = {
            m.pk: m.jobs.get().scores.get(slices=cell.slices, method=cell.method).value
            for m in (strong, weak)
        }
        assert cell.rates == [pytest.approx(score[strong.pk]), pytest.approx(score[weak.pk])]
        test = cell.tests[1]
        assert cell.tests[0] is None
        assert test.delta == pytest.approx(score[weak.pk] - score[strong.pk])
        assert test.ci_low <= test.delta <= test.ci_high
        assert 0.0 <= test.p_value <= 1.0


def test_disagreements_are_the_items_answered_differently(release, pair):
    strong, weak = pair
    result = compare(release, [strong.pk, weak.pk], method="mc")
    expected = disagreeing_items(strong, weak, "mc")
    assert result.disagreement_total == len(expected) > 0
    assert {(d.item_id, d.method) for d in result.disagreements} == expected
    for d in result.disagreements:
        assert d.chosen[0] != d.chosen[1]
        assert d.correct[0] != d.correct[1]  # two options: a different letter flips the outcome


def test_the_page_accepts_a_comma_list_of_models(client, pair):
    strong, weak = pair
    response = client.get(URL, {"models": f"{strong.pk},{weak.pk}"})
    html = htmllib.unescape(response.content.decode())
    assert response.status_code == 200
    assert 'id="compare-table"' in html
    assert html.count("<tr>") >= 20
    assert "baseline" in html
    assert (
        f'Where they disagree <span class="count">{len(disagreeing_items(strong, weak))}</span>'
        in html
    )
    assert f"{strong.display_name} chose" in html and f"{weak.display_name} chose" in html


def test_the_pickers_send_repeated_models_too(client, pair):
    strong, weak = pair
    html = client.get(URL + f"?models={weak.pk}&models={strong.pk}&models=").content.decode()
    assert html.index(f'{weak.display_name}</a><br><span class="muted">baseline') > 0


def test_more_than_four_models_are_refused(client, release, pair):
    ids = [str(m.pk) for m in pair] + [str(make_model(f"org/m{i}").pk) for i in range(3)]
    html = client.get(URL, {"models": ",".join(ids)}).content.decode()
    assert "Pick at most 4 models to compare (you picked 5)." in html
    assert 'id="compare-table"' not in html


def test_models_without_results_are_left_out_with_a_notice(client, release, pair):
    strong, weak = pair
    idle = make_model("org/idle")
    html = client.get(URL, {"models": f"{strong.pk},{weak.pk},{idle.pk}"}).content.decode()
    assert "1 of the models picked has no finished evaluation on release r1; it is left" in html
    assert 'id="compare-table"' in html


def test_one_model_asks_for_another(client, pair):
    html = client.get(URL, {"models": str(pair[0].pk)}).content.decode()
    assert "Pick two to four models" in html
    assert 'id="compare-table"' not in html


def test_the_method_filter_limits_cells(client, pair):
    html = client.get(
        URL, {"models": f"{pair[0].pk},{pair[1].pk}", "method": "aj"}
    ).content.decode()
    table = html.split('id="compare-table"')[1].split("</table>")[0]
    assert "<td>Answer judgement · Correct rate</td>" in table
    assert "<td>Multiple choice" not in table


def test_the_model_pickers_name_each_model_by_its_display_name(client, pair):
    strong, weak = pair
    html = htmllib.unescape(client.get(URL).content.decode())
    for model in (strong, weak):
        assert f'<option value="{model.pk}">{model.display_name}</option>' in html


def test_each_picker_selects_its_own_model_of_the_same_options(client, pair):
    strong, weak = pair
    html = client.get(URL, {"models": [weak.pk, strong.pk]}).content.decode()
    pickers = re.findall(r'<select id="compare-model-\d" name="models">(.*?)</select>', html, re.S)
    assert len(pickers) == 4
    assert [re.findall(r'<option value="(\d+)" selected>', p) for p in pickers] == [
        [str(weak.pk)],
        [str(strong.pk)],
        [],
        [],
    ]
    options = [re.sub(r" selected", "", p) for p in pickers]
    assert options.count(options[0]) == 4 and options[0].count("<option") == 3  # and "—"


def compare_queries(client, url: str) -> int:
    invalidate_boards()  # the page is built, not read from the response cache
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("benchmark", ["navab", "divervalue"])
def test_the_page_costs_the_same_queries_for_3_and_30_models(client, release, benchmark):
    """The pickers list every model with their display names (which read the publisher-run
    flags), the comparison reads its models' results: nothing is looked up per model."""
    strong, weak = make_model("org/strong"), make_model("org/weak")
    if benchmark == "divervalue":
        release = dvb_release()
        dvb_evaluate(strong, release, defaultdict(lambda: 0.5))
        dvb_evaluate(weak, release, defaultdict(lambda: -0.5))
    else:
        evaluate(strong, release, skill=0.9)
        evaluate(weak, release, skill=0.3)
    url = f"{reverse('compare', args=[benchmark])}?models={strong.pk}&models={weak.pk}"
    ranked_model("org/other-00", release, 0.5)
    with_3 = compare_queries(client, url)
    for i in range(1, 28):
        ranked_model(f"org/other-{i:02d}", release, 0.5)
    assert compare_queries(client, url) == with_3


@pytest.mark.parametrize("odd", ["99999999999999999999", "²", "٣", "-1", "1e3"])
def test_a_model_id_no_key_can_be_is_ignored_not_an_error(client, pair, odd):
    strong, weak = pair
    response = client.get(URL, {"models": f"{strong.pk},{weak.pk},{odd}"})
    assert response.status_code == 200
    assert f"{strong.display_name} chose" in htmllib.unescape(response.content.decode())
