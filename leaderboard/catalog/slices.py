"""The ItemSlice rows beside each item's `slices`: what filtering by a slice looks up."""

from __future__ import annotations

from typing import Any, Final

from django.db import connection

BATCH: Final = 2000


def index_slices(item_model: Any, slice_model: Any, items: Any) -> None:
    """Write the ItemSlice rows of ITEMS (a queryset of item_model) from their `slices`.

    The models are passed in so that the data migration can use its historical ones. Existing
    rows of these items are replaced, so an admin edit can call it again.
    """
    ids = items.order_by().values("id")
    slice_model.objects.filter(item__in=ids).delete()
    if connection.vendor == "postgresql":
        subquery, params = ids.query.sql_with_params()
        # One statement however many items: the release's whole import is a single round trip.
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {slice_model._meta.db_table} (item_id, dimension, value) "
                f"SELECT i.id, s.key, s.value FROM {item_model._meta.db_table} i, "
                f"jsonb_each_text(i.slices) s WHERE i.id IN ({subquery})",
                params,
            )
        return
    rows = (
        item_model.objects.filter(id__in=ids)
        .order_by()
        .values_list("id", "slices")
        .iterator(chunk_size=BATCH)
    )
    batch = []
    for item_id, slices in rows:
        batch += [slice_model(item_id=item_id, dimension=k, value=v) for k, v in slices.items()]
        if len(batch) >= BATCH:
            slice_model.objects.bulk_create(batch)
            batch = []
    slice_model.objects.bulk_create(batch)
