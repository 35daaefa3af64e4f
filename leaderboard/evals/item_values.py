"""Each job's per-item values packed into one row per (method, metric): what a board's rank
spread resamples, fetched for every ranked job in one query.

Why: the spread needs every ranked job's value of the board's metric on every item. Read from
the `SampleResult` rows and, for a metric kept in an item's `details["outcome"]` (DiverValue-
Bench's OPA), from each job's details file, a cold DiverValue-Bench board took 15-30 s at 200
models (a JSON decode per result, a slice lookup per row). Packed, it is one row of two arrays
per job: item ids and values (float64, NaN where the item holds no value of the metric), in the
order the results were stored (by item), which is the order the spread meets its units in. The
ids are kept once per method, in its VALUE row, as int64 differences from the id before (mostly
one small number, which PostgreSQL's TOAST compresses to under a byte an item); another metric's row keeps its values only, and
none when they equal the results' own (DiverValue-Bench's OPA margin): DiverValue-Bench's OPA
packs nine metrics, and ids in each cost more than the rows themselves save.

This module knows only ids and plain values: the data migration that filled the rows for jobs
stored before calls it with its own historical rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

#: the `metric` of the row packing each result's own `value` (the method's item metric)
VALUE = ""

# (method, metric) -> (item ids, values)
Packed = dict[tuple[str, str], tuple[bytes, bytes]]


def pack(results: Iterable[tuple[int, str, float, Mapping[str, Any]]]) -> Packed:
    """RESULTS (item id, method, value, details), in stored order, packed per method: the
    item ids and values under VALUE, and each numeric `details["outcome"][metric]` under its
    metric (as `evaluation.benchmarks.disparity.item_metric_value` reads it: NaN where not a
    number), its ids left to the VALUE row and its values too where they equal it."""
    items: dict[str, list[int]] = {}
    values: dict[tuple[str, str], dict[int, float]] = {}
    for item, method, value, details in results:
        position = len(items.setdefault(method, []))
        items[method].append(item)
        values.setdefault((method, VALUE), {})[position] = float(value)
        outcome = details.get("outcome")
        if not isinstance(outcome, Mapping):
            continue
        for metric, found in outcome.items():
            if isinstance(found, int | float) and not isinstance(found, bool):
                values.setdefault((method, metric), {})[position] = float(found)
    columns: dict[tuple[str, str], np.ndarray] = {}
    for (method, metric), by_position in values.items():
        column = np.full(len(items[method]), np.nan)
        column[list(by_position)] = list(by_position.values())
        columns[(method, metric)] = column
    packed: Packed = {}
    for (method, metric), column in columns.items():
        if metric == VALUE:
            ids = np.diff(np.asarray(items[method], "<i8"), prepend=0)
            packed[(method, metric)] = (_bytes(ids), _bytes(column))
        elif np.array_equal(column, columns[(method, VALUE)], equal_nan=True):
            packed[(method, metric)] = (b"", b"")
        else:
            packed[(method, metric)] = (b"", _bytes(column))
    return packed


def unpack(
    value_row: tuple[bytes, bytes], metric_row: tuple[bytes, bytes] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(item ids, values) of a method's metric from its VALUE row (ids and the results' own
    values) and, for another metric, that metric's row (its values, or none: the same)."""
    return item_ids(value_row), values_of(value_row, metric_row)


def item_ids(value_row: tuple[bytes, bytes]) -> np.ndarray:
    """The item ids of a method's VALUE row."""
    return np.cumsum(np.frombuffer(value_row[0], "<i8"))


def values_of(
    value_row: tuple[bytes, bytes], metric_row: tuple[bytes, bytes] | None = None
) -> np.ndarray:
    """The values `unpack` gives, without the ids (which many jobs share)."""
    own = metric_row[1] if metric_row is not None and metric_row[1] else value_row[1]
    return np.frombuffer(own, "<f8")


def _bytes(array: np.ndarray) -> bytes:
    return array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
