"""Rows of a query read in PostgreSQL's binary protocol (elsewhere, as Django reads them).

Django reads rows as text, and psycopg parses some types of text in Python: a bytea arrives
as hex (a third of a cold board once 38 MB of rank replicates were read), a timestamp goes
through a Python parser (3 ms for the finish times of 750 jobs), and every row then passes
Django's converters. In binary, psycopg's compiled loaders make each value. For plain columns
only: a JSON column would be decoded otherwise than Django decodes it (cast it to text).
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet


def fetch_rows(rows: QuerySet[Any, tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """ROWS (a values_list) as tuples. The query is logged as Django logs its own."""
    if connection.vendor != "postgresql":
        return list(rows)
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # a condition no row meets (`__any` of no ids): as Django answers it
        return []
    connection.ensure_connection()
    began = time.monotonic()
    with psycopg.Cursor(connection.connection) as cursor:
        found = cursor.execute(sql, params, binary=True).fetchall()
    if connection.queries_logged:
        spent = f"{time.monotonic() - began:.3f}"
        connection.queries_log.append({"sql": f"{sql} (binary)", "time": spent})
    return found
