"""The ItemSlice rows that slice filters look up are written by the database from the items'
`slices`, in one statement however many items, on PostgreSQL and on SQLite alike."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leaderboard.catalog.models import Item, ItemSlice
from leaderboard.catalog.slices import index_slices
from tests.factories import add_triples, make_release

pytestmark = pytest.mark.django_db


def test_every_items_slices_become_rows_in_two_statements():
    release = make_release("r1")
    add_triples(release, "us", "quoted", count=300)
    add_triples(release, "cn", "official", count=300)
    items = Item.objects.filter(release=release)
    ItemSlice.objects.filter(item__release=release).update(value="stale")

    with CaptureQueriesContext(connection) as captured:
        index_slices(Item, ItemSlice, items)

    # The old rows deleted, the new ones inserted: the items are not read into this process.
    assert len(captured.captured_queries) == 2
    stored = {(s.item_id, s.dimension, s.value) for s in ItemSlice.objects.all()}
    assert stored == {(i.pk, k, v) for i in items for k, v in i.slices.items()}
    assert ItemSlice.objects.filter(dimension="nation", value="cn").count() == 300
