"""A filter on a declared item field (DiverValue-Bench's user id, a free-text field of 1,396
values on the full release) matches case-blind, as before, and on PostgreSQL is answered from
the GIN index of the items' `data` instead of reading every item."""

from __future__ import annotations

import pytest
from django.db import connection

from leaderboard.catalog.facets import stored_matches
from leaderboard.catalog.filters import item_filter_class
from leaderboard.catalog.models import DatasetRelease, Item
from tests.factories import dvb_release, make_release

pytestmark = pytest.mark.django_db


def user_filter(value: str) -> list[str]:
    filterset = item_filter_class("divervalue")(
        data={"user_id": value}, queryset=Item.objects.all()
    )
    assert filterset.is_valid(), filterset.errors
    return sorted(filterset.qs.values_list("uid", flat=True))


def test_it_finds_a_user_s_items_case_blind():
    release = dvb_release(items_per_user=2)
    user = release.items.values_list("data__user_id", flat=True).first()
    assert isinstance(user, str)
    expected = sorted(release.items.filter(data__user_id=user).values_list("uid", flat=True))
    assert len(expected) == 2
    assert user_filter(user.upper()) == expected
    assert user_filter("no such user") == []


def test_it_reads_the_data_index_not_every_item():
    release = dvb_release(items_per_user=2)
    user = release.items.values_list("data__user_id", flat=True).first()
    filterset = item_filter_class("divervalue")(data={"user_id": user}, queryset=Item.objects)
    with connection.cursor() as cursor:
        # The tables are tiny: without this the planner reads them whole whatever the index
        # (a sequential scan, or the primary key's index in order once an import's ANALYZE
        # has counted a few rows); a GIN index is read by a bitmap scan.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    plan = filterset.qs.explain()
    assert "benchmark_item_data_gin" in plan
    assert "Seq Scan on benchmark_item " not in plan + " "


def test_it_matches_a_value_stored_as_a_number():
    release = make_release("numbers", benchmark="divervalue", signal=False)
    Item.objects.create(release=release, uid="a", data={"user_id": 7, "question": "Q?"})
    release.facets = {"user_id": [["7", 1]]}
    DatasetRelease.objects.filter(pk=release.pk).update(facets=release.facets)
    assert user_filter("7") == ["a"]


def test_stored_matches_names_each_case_and_type_a_value_may_be_stored_as():
    facets = [{"user_id": [["Ab", 1], ["aB", 2], ["7", 1]]}, {"user_id": [["True", 1]]}]
    assert stored_matches(facets, "user_id", "AB") == ["Ab", "aB"]
    assert stored_matches(facets, "user_id", "7") == ["7", 7]
    assert stored_matches(facets, "user_id", "true") == ["True", True]
    assert stored_matches([{"user_id": []}], "user_id", "x") == []
    assert stored_matches([{}], "user_id", "x") is None  # not counted: read the items
