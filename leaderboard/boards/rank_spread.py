"""Rank spread: each ranked model's best and worst rank over bootstrap resamples of the items
the board ranks on, drawn once per board build from the stored per-item results.

A shared rank says that intervals overlap; it does not say how far a model could move. Here
every model's score is recomputed on the same resampled items (paired: one draw serves every
model, as they answered the same items), the models are ranked in each replicate, and the
best and worst of those ranks are kept. Items are resampled as the metric's interval resamples
them (whole users where the metric declares a cluster). On an overall board (NaVAB's mean over
nations) each column is resampled on its own seed and the replicate score is the mean over
columns, as the ranked score is. The result is cached with the board (see cache.py).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import psycopg
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.db.models.expressions import Combinable
from django.db.models.fields.json import KT

from evaluation.benchmarks.contract import BenchmarkDefinition, IntervalMethod, Method, Metric
from evaluation.stats import cell_seed, resampled_means
from leaderboard.boards.cache import cached_value
from leaderboard.boards.ranking import rank_ranges
from leaderboard.catalog.models import DatasetRelease, Item
from leaderboard.evals import item_values
from leaderboard.evals.disparity import cluster_path
from leaderboard.evals.models import JobItemValues

#: replicates per board view: enough for the extremes of a rank to settle, few enough to
#: build a board of dozens of models in well under a second once the items are read
RANK_RESAMPLES = 1000
#: how far a score recomputed from per-item results may be from the stored one
TOLERANCE = 1e-6


@dataclass(frozen=True)
class RankedScore:
    """What the spread needs of one ranked row: its job and the stored score of each column
    it ranks on ("" where the board ranks one cell), with that cell's number of items."""

    job_id: int
    cells: dict[str, tuple[float, int]]


@dataclass(frozen=True)
class Spread:
    #: job id -> (best, worst) rank; empty with `note` when the spread cannot be computed
    ranges: dict[int, tuple[int, int]]
    note: str = ""


def rank_spread(
    release: DatasetRelease,
    benchmark: BenchmarkDefinition,
    method: Method,
    metric: Metric,
    selected: dict[str, str],
    column_key: str,
    rows: Sequence[RankedScore],
) -> Spread:
    """The best and worst rank of every row of ROWS (the board's ranked rows) over
    RANK_RESAMPLES paired resamples of the items of the board's cell(s): `selected` slice
    values, and the columns of `column_key` the rows' cells name."""
    if not rows:
        return Spread({})
    columns = sorted({code for row in rows for code in row.cells})
    values = _item_values(release, benchmark, method, metric, selected, column_key, columns, rows)
    checked = _check(rows, values, metric)
    if checked:
        return Spread({}, checked)
    jobs = [row.job_id for row in rows]
    seed = settings.EVAL_SEED
    per_column = []
    for code in columns:
        sums, counts = _unit_table(values, code, jobs)
        labels = ("rank-spread", method.key, metric.key, *sorted(selected.values()), code)
        per_column.append(
            resampled_means(sums, counts, cell_seed(seed, *labels), iters=RANK_RESAMPLES)
        )
    # The ranked score is the unweighted mean over the columns (one column: the cell itself).
    replicates = np.mean(per_column, axis=0)
    found = rank_ranges(replicates, higher_is_better=metric.higher_is_better)
    ranges = {job: spread for job, spread in zip(jobs, found, strict=True) if spread}
    if len(ranges) != len(jobs):
        return Spread({}, "no resample held items of every ranked model")
    return Spread(ranges)


# (job, column) -> (each item's resampling unit, as a code; its value), in stored order
ItemValues = dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]


def _item_values(
    release: DatasetRelease,
    benchmark: BenchmarkDefinition,
    method: Method,
    metric: Metric,
    selected: dict[str, str],
    column_key: str,
    columns: list[str],
    rows: Sequence[RankedScore],
) -> ItemValues:
    """Every ranked job's per-item values of METRIC in the board's cell(s), each with its
    resampling unit (its cluster, or the item itself): two queries whatever the number of
    models, the cell's items and every job's packed values (`JobItemValues`)."""
    jobs = [row.job_id for row in rows]
    narrowed: dict[str, str | list[str]] = {
        f"slices__{key}": value for key, value in selected.items()
    }
    if column_key:
        narrowed[f"slices__{column_key}__in"] = columns
    cluster = cluster_path(benchmark, metric) if metric.interval is IntervalMethod.CLUSTER else None
    labels: dict[str, Combinable] = {}
    if column_key:
        labels["column"] = _text(f"slices__{column_key}")
    if cluster:
        labels["unit"] = _text(cluster.removeprefix("item__"))
    cell_key = (release.pk, sorted(narrowed.items()), columns, column_key, cluster)
    key = hashlib.sha1(repr(cell_key).encode())
    sorted_ids, item_codes, item_units = cached_value(
        f"rank-spread-items|{key.hexdigest()}",
        lambda: _cell_items(release, narrowed, labels, columns, column_key, bool(cluster)),
    )
    if not len(sorted_ids):
        return {}
    packed_metric = item_values.VALUE if metric.key == method.value_metric.key else metric.key
    rows_by_job: dict[int, dict[str, tuple[bytes, bytes]]] = {}
    for job_id, row_metric, packed_items, packed_values in _packed_rows(
        jobs, method.key, sorted({item_values.VALUE, packed_metric})
    ):
        rows_by_job.setdefault(job_id, {})[row_metric] = (bytes(packed_items), bytes(packed_values))
    found: ItemValues = {}
    # Where each job's items fall in the cell, per distinct sequence of item ids: the jobs of
    # one release mostly hold the same items in the same order, so this is worked out once
    # rather than once a job (a searchsorted of every job's items was 30 ms at 750 models).
    placed: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    cell_columns = columns if column_key else [""]
    for job_id, by_metric in rows_by_job.items():
        if item_values.VALUE not in by_metric or packed_metric not in by_metric:
            continue  # no per-item values of the metric: `_check` says so
        metric_row = None if packed_metric == item_values.VALUE else by_metric[packed_metric]
        values = item_values.values_of(by_metric[item_values.VALUE], metric_row)
        ids_key = by_metric[item_values.VALUE][0]
        if ids_key not in placed:
            job_items = item_values.item_ids(by_metric[item_values.VALUE])
            at = np.minimum(np.searchsorted(sorted_ids, job_items), len(sorted_ids) - 1)
            placed[ids_key] = (sorted_ids[at] == job_items, item_codes[at], item_units[at])
        in_cell, codes, units = placed[ids_key]
        # The job's items in the cell(s) that hold a value of the metric, in stored order.
        kept = in_cell & ~np.isnan(values)
        for position, code in enumerate(cell_columns):
            chosen = kept & (codes == position)
            if chosen.any():
                found[(job_id, code)] = (units[chosen], values[chosen])
    return found


def _packed_rows(
    jobs: list[int], method: str, metrics: list[str]
) -> Iterable[tuple[int, str, bytes, bytes]]:
    """The jobs' `JobItemValues` rows of METHOD's METRICS as (job, metric, items, values). On
    PostgreSQL they are read in the binary protocol: a DiverValue-Bench board at 1,000 models
    reads 38 MB of packed values, which Django's text protocol sends as hex and decodes (140 ms,
    a third of the cold board; 43 ms in binary). The query is logged as Django logs its own."""
    rows = JobItemValues.objects.filter(job_id__in=jobs, method=method, metric__in=metrics)
    columns = ("job_id", "metric", "items", "values")
    if connection.vendor != "postgresql" or not jobs:
        return rows.values_list(*columns)
    sql, params = rows.values_list(*columns).query.sql_with_params()
    connection.ensure_connection()
    began = time.monotonic()
    with psycopg.Cursor(connection.connection) as cursor:
        found = cursor.execute(sql, params, binary=True).fetchall()
    if connection.queries_logged:
        spent = f"{time.monotonic() - began:.3f}"
        connection.queries_log.append({"sql": f"{sql} (binary)", "time": spent})
    return found


def _cell_items(
    release: DatasetRelease,
    narrowed: dict[str, str | list[str]],
    labels: dict[str, Combinable],
    columns: list[str],
    column_key: str,
    clustered: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cell's items by id (sorted), each with its column's position in COLUMNS and its
    resampling unit: one query, built once per board version and shared by the boards of
    one cell (NaVAB's board builds its other method's too, for the agreement chart), since
    reading tens of thousands of items is most of a cold rank spread."""
    # Named by the board's release, not as the release of its jobs: PostgreSQL planned that
    # subquery of a thousand job ids into twice the scan of the items.
    cell = Item.objects.filter(release=release, **narrowed).annotate(**labels).order_by()
    ids, codes, units = [], [], []
    column_index = {code: position for position, code in enumerate(columns)}
    unit_index: dict[str, int] = {}
    for record in cell.values_list("id", *labels):
        rest = list(record[1:])
        column = column_index.get(str(rest.pop(0)), -1) if column_key else 0
        # Units are told apart by their label as text, as the cluster interval tells them.
        unit = unit_index.setdefault(str(rest.pop(0)), len(unit_index)) if clustered else record[0]
        ids.append(record[0])
        codes.append(column)
        units.append(unit)
    by_id = np.argsort(np.asarray(ids, dtype=np.int64))
    return (
        np.asarray(ids, dtype=np.int64)[by_id],
        np.asarray(codes, dtype=np.int64)[by_id],
        np.asarray(units, dtype=np.int64)[by_id],
    )


def _text(path: str) -> Combinable:
    """An item field, or a key of one of its JSON fields, read as text: a board's cell holds
    tens of thousands of items, too many to decode a JSON value for each."""
    return KT(path) if "__" in path else F(path)


def _check(rows: Sequence[RankedScore], values: ItemValues, metric: Metric) -> str:
    """Why the per-item results cannot stand for the ranked scores ("" when they can): a job
    without them (stored before results were kept, or imported as scores only), or whose
    items do not give back its stored score."""
    missing = mismatched = 0
    for row in rows:
        for code, (score, n) in row.cells.items():
            _, items = values.get((row.job_id, code), (None, np.empty(0)))
            if not len(items):
                missing += 1
                break
            mean = float(items.sum()) / len(items)
            if len(items) != n or abs(mean - score) > TOLERANCE * max(1.0, abs(score)):
                mismatched += 1
                break
    if missing:
        return f"{_models(missing)} no stored per-item results of {metric.label}"
    if mismatched:
        return f"{_models(mismatched)} per-item results that do not give back its stored {metric.label}"
    return ""


def _models(count: int) -> str:
    return "1 ranked model has" if count == 1 else f"{count} ranked models have"


def _unit_table(values: ItemValues, code: str, jobs: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per resampling unit (rows) and job (columns): the sum and the number of the job's item
    values in the unit, over the union of the jobs' units (a model that left an item out
    simply has none there). Rows in the order the jobs, in turn, first meet each unit: the
    resampling draws rows by position. Jobs mostly hold the same units in the same order, so
    the union and each unit's row are worked out once per distinct sequence (sorting every
    job's units together took a third of a cold NaVAB spread at 150 models)."""
    distinct: dict[bytes, np.ndarray] = {}
    key_of: dict[int, bytes] = {}
    for job in jobs:
        if (job, code) in values:
            job_units = values[(job, code)][0]
            key_of[job] = job_units.tobytes()
            distinct.setdefault(key_of[job], job_units)
    held = list(distinct.values())
    met = np.concatenate(held) if held else np.empty(0, dtype=np.int64)
    units, first = np.unique(met, return_index=True)
    row = np.empty(len(units), dtype=np.int64)
    row[np.argsort(first, kind="stable")] = np.arange(len(units))
    rows_of = {key: row[np.searchsorted(units, job_units)] for key, job_units in distinct.items()}
    sums = np.zeros((len(units), len(jobs)))
    counts = np.zeros((len(units), len(jobs)))
    for position, job in enumerate(jobs):
        if (job, code) not in values:
            continue
        rows = rows_of[key_of[job]]
        job_values = values[(job, code)][1]
        # bincount adds in input order, as the sums were always added.
        sums[:, position] = np.bincount(rows, weights=job_values, minlength=len(units))
        counts[:, position] = np.bincount(rows, minlength=len(units))
    return sums, counts
