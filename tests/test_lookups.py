"""`__any`: the rows `__in` finds, with the ids sent as one array literal on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leaderboard.evals.models import LanguageModel
from tests.factories import make_model

pytestmark = pytest.mark.django_db


def test_it_finds_the_rows_in_finds():
    models = [make_model(f"org/model-{i}") for i in range(5)]
    ids = [models[0].pk, models[3].pk, models[4].pk, None, -1]

    found = LanguageModel.objects.filter(pk__any=ids).order_by("pk")

    assert list(found) == list(LanguageModel.objects.filter(pk__in=ids).order_by("pk"))
    assert list(found) == [models[0], models[3], models[4]]


def test_it_reads_a_foreign_keys_ids_and_combines_with_other_conditions():
    base = make_model("org/base")
    derived = [make_model(f"org/derived-{i}") for i in range(3)]
    for model in derived[:2]:
        model.base_model = base
        model.save()

    found = LanguageModel.objects.filter(base_model_id__any=[base.pk], name__endswith="-1")

    assert list(found) == [derived[1]]


def test_no_ids_match_nothing_without_a_query():
    make_model("org/model")

    with CaptureQueriesContext(connection) as queries:
        assert list(LanguageModel.objects.filter(pk__any=[None])) == []

    assert len(queries) == 0


def test_the_ids_are_one_parameter_on_postgresql():
    ids = list(range(1, 1001))
    sql, params = LanguageModel.objects.filter(pk__any=ids).query.sql_with_params()

    if connection.vendor == "postgresql":
        assert "= ANY(%s::bigint[])" in sql
        assert list(params) == ["{" + ",".join(map(str, ids)) + "}"]
    else:
        assert " IN (" in sql


def test_a_subquery_is_sent_as_in_sends_it():
    models = [make_model(f"org/model-{i}") for i in range(3)]
    chosen = LanguageModel.objects.filter(name__endswith="-1").values("pk")

    assert list(LanguageModel.objects.filter(pk__any=chosen)) == [models[1]]


def test_a_set_or_a_dicts_keys_find_what_a_list_finds():
    models = [make_model(f"org/model-{i}") for i in range(4)]
    chosen = {models[1].pk: "b", models[2].pk: "c"}

    for ids in (set(chosen), chosen.keys(), list(chosen)):
        found = LanguageModel.objects.filter(pk__any=ids).order_by("pk")
        assert list(found) == [models[1], models[2]]
    assert list(LanguageModel.objects.filter(pk__any=set())) == []
