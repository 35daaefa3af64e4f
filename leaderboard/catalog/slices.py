"""The ItemSlice rows beside each item's `slices`: what filtering by a slice looks up."""

from __future__ import annotations

from typing import Any, Final

from django.db import connection

# Each database's function that lists a JSON object's keys with their values as text.
_JSON_EACH: Final = {"postgresql": "jsonb_each_text", "sqlite": "json_each"}


def index_slices(item_model: Any, slice_model: Any, items: Any) -> None:
    """Write the ItemSlice rows of ITEMS (a queryset of item_model) from their `slices`.

    The models are passed in so that the data migration can use its historical ones. Existing
    rows of these items are replaced, so an admin edit can call it again. Two statements
    however many items, on either database: the rows are never read into this process (on
    SQLite a full release's import spent longer here, building 140,000 objects, than writing
    its items).
    """
    subquery, params = items.order_by().values("id").query.sql_with_params()
    table = slice_model._meta.db_table
    with connection.cursor() as cursor:
        # In SQL beside the INSERT: one statement whatever the number of rows, on the
        # historical models of a data migration too.
        cursor.execute(f"DELETE FROM {table} WHERE item_id IN ({subquery})", params)
        cursor.execute(
            f"INSERT INTO {table} (item_id, dimension, value) "
            f"SELECT i.id, s.key, s.value FROM {item_model._meta.db_table} i, "
            f"{_JSON_EACH[connection.vendor]}(i.slices) s WHERE i.id IN ({subquery})",
            params,
        )
