"""Each job's score in a board cell under every bootstrap replicate of the rank spread, drawn
once from its per-item values and stored (`RankReplicates`), so that a board is ranked again
on its replicates without reading or resampling every ranked job's items.

Why: the spread is paired, one draw of the cell's units serving every model, and a model's
replicate score depends only on that draw and its own values. Drawn for all ranked models on
each cold board, a NaVAB board (26,200 triples in China's column alone, 1,000 replicates) took
1.3 s at 150 models and 4.6 s at 750; read back it is one query.

What a draw is over: the units (items, or whole clusters such as users) of the cell that at
least one ranked model holds a value in, in the order the cell's items first meet them (by
item id, the order results are stored in). A job's replicates are kept with the digest of
those units; when the ranked models hold other units (a model that skipped items joins or
leaves), the draw changes and every job's replicates are drawn again, once. The cell (release
and its content, method, metric, slice values, seed, number of replicates) is registered in
`RankCell`, so that a job published later gets its replicates of every cell a board has shown
at publish time (`publish`), not on the next page view.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import psycopg
from django.conf import settings
from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.expressions import Combinable
from django.db.models.fields.json import KT

from evaluation.benchmarks.contract import BenchmarkDefinition, IntervalMethod, Method, Metric
from evaluation.stats import cell_seed, resampled_means
from leaderboard.boards.cache import cached_value
from leaderboard.boards.models import RankCell, RankReplicates
from leaderboard.catalog.importer import CONTENT_DIGEST
from leaderboard.catalog.models import DatasetRelease, Item
from leaderboard.evals import item_values
from leaderboard.evals.disparity import cluster_path
from leaderboard.evals.models import EvaluationJob, JobItemValues
from leaderboard.evals.slices import declaration

logger = logging.getLogger(__name__)

#: replicates per board view: enough for the extremes of a rank to settle
RANK_RESAMPLES = 1000


@dataclass(frozen=True)
class Cell:
    """One cell a board ranks on (NaVAB's overall board ranks five, one a nation)."""

    release: DatasetRelease
    benchmark: BenchmarkDefinition
    method: Method
    metric: Metric
    #: every slice value the cell's items hold (dimension -> value)
    slices: dict[str, str]

    @cached_property
    def cluster(self) -> str | None:
        """Where an item's resampling unit is kept (None: each item is its own)."""
        if self.metric.interval is not IntervalMethod.CLUSTER:
            return None
        found = cluster_path(self.benchmark, self.metric)
        return found.removeprefix("item__") if found else None

    @cached_property
    def labels(self) -> tuple[str, ...]:
        values = (f"{key}={value}" for key, value in sorted(self.slices.items()))
        return ("rank-spread", self.method.key, self.metric.key, *values)

    @cached_property
    def key(self) -> str:
        """Everything the replicates depend on but the jobs: a changed release content,
        seed or number of replicates names another cell."""
        content = self.release.manifest.get(CONTENT_DIGEST, "")
        named = (self.release.pk, content, self.labels, self.cluster)
        return hashlib.sha1(repr((named, settings.EVAL_SEED, RANK_RESAMPLES)).encode()).hexdigest()


@dataclass
class JobCell:
    """A job's figures in one cell: its per-item values' count and mean (what `rank_spread`
    checks against the stored score), the cell's units it holds, and its replicate scores
    over the units named by `units`."""

    units: str
    held: np.ndarray
    n: int
    mean: float
    replicates: np.ndarray


@dataclass(frozen=True)
class _CellUnits:
    """The cell's items by id (sorted) and each one's unit, as a position in the order the
    items first meet the units; `count` units in all."""

    ids: np.ndarray
    units: np.ndarray
    count: int


# job -> (each of its values' unit position, the values), per cell key
_Placed = dict[str, dict[int, tuple[np.ndarray, np.ndarray]]]


def replicates_for(cells: list[Cell], jobs: list[int]) -> dict[str, dict[int, JobCell]]:
    """cell key -> job -> its figures in the cell, for the JOBS with per-item values there.
    One query reads the stored ones; jobs without them, and every job when the ranked jobs
    hold other units than the stored draw was over, have theirs drawn and stored."""
    found: dict[str, dict[int, JobCell]] = {cell.key: {} for cell in cells}
    stored = RankReplicates.objects.filter(cell__key__in=list(found), job_id__in=jobs)
    for key, job, drawn_over, held, n, mean, replicates in _fetch(
        stored.values_list("cell_id", "job_id", "units", "held", "n", "mean", "replicates")
    ):
        found[key][job] = JobCell(
            drawn_over,
            np.unpackbits(np.frombuffer(held, np.uint8)).astype(bool),
            n,
            mean,
            np.frombuffer(replicates, "<f8"),
        )
    missing = [job for job in jobs if any(job not in found[cell.key] for cell in cells)]
    placed: _Placed = {cell.key: {} for cell in cells}
    units: dict[str, _CellUnits] = {}
    if missing:
        units = _cell_units(cells)
        _place(cells, missing, placed, units)
        for cell in cells:
            for job, (positions, values) in placed[cell.key].items():
                if job not in found[cell.key]:  # a job's stored figures stand where it has them
                    found[cell.key][job] = _figures(units[cell.key].count, positions, values)
    stale: dict[str, list[int]] = {}
    for cell in cells:
        union = _union(found[cell.key].values())
        digest = _digest(union)
        stale[cell.key] = [job for job, got in found[cell.key].items() if got.units != digest]
    unread = sorted({job for drawn in stale.values() for job in drawn if job not in missing})
    if unread:
        units = units or _cell_units(cells)
        _place(cells, unread, placed, units)
    for cell in cells:
        if stale[cell.key]:
            _draw(cell, found[cell.key], stale[cell.key], placed[cell.key])
    return found


def publish(job: EvaluationJob) -> None:
    """The job's replicates in every cell a board of its release has shown, drawn at publish
    time; any other job's too when this one holds units they were not drawn over. Logged, not
    raised: the board draws what is missing when it is next shown."""
    try:
        RankReplicates.objects.filter(job=job).delete()  # results stored again
        benchmark = declaration(job.release)
        by_method: dict[tuple[str, str], list[Cell]] = {}
        for registered in RankCell.objects.filter(release=job.release):
            method = benchmark.method(registered.method)
            cell = Cell(
                job.release,
                benchmark,
                method,
                method.metric(registered.metric),
                registered.slices,
            )
            by_method.setdefault((registered.method, registered.metric), []).append(cell)
        for cells in by_method.values():
            keys = [cell.key for cell in cells]
            others = RankReplicates.objects.filter(cell__key__in=keys)
            known = others.values_list("job_id", flat=True).distinct()
            replicates_for(cells, sorted({job.pk, *known}))
    except Exception:
        logger.exception("rank replicates of job %s not drawn; boards draw them when shown", job.pk)


def _union(figures: Iterable[JobCell]) -> np.ndarray:
    held = [got.held for got in figures]
    if not held:
        return np.zeros(0, dtype=bool)
    width = max(len(h) for h in held)
    union = np.zeros(width, dtype=bool)
    for h in held:
        union[: len(h)] |= h
    return union


def _digest(union: np.ndarray) -> str:
    # Packed to whole bytes: a union read back from stored rows (padded to eight) and one of
    # freshly placed values (the cell's exact number of units) name the same units alike.
    return hashlib.sha1(np.packbits(union).tobytes()).hexdigest()


def _figures(units: int, positions: np.ndarray, values: np.ndarray) -> JobCell:
    """A job's count, mean and held units (of the cell's UNITS) from its values in the cell;
    no replicates yet."""
    held = np.zeros(units, dtype=bool)
    held[positions] = True
    mean = float(values.sum()) / len(values)
    return JobCell("", held, len(values), mean, np.empty(0))


def _draw(
    cell: Cell,
    figures: dict[int, JobCell],
    jobs: list[int],
    placed: dict[int, tuple[np.ndarray, np.ndarray]],
) -> None:
    """Draw JOBS' replicates over the units some job of FIGURES holds, and store them."""
    union = _union(figures.values())
    digest = _digest(union)
    row_of = np.cumsum(union) - 1  # a held unit's row in the drawn table
    count = int(union.sum())
    sums = np.zeros((count, len(jobs)))
    counts = np.zeros((count, len(jobs)))
    for column, job in enumerate(jobs):
        positions, values = placed[job]
        rows = row_of[positions]
        # bincount adds in input order (the values' stored order), as the sums always were.
        sums[:, column] = np.bincount(rows, weights=values, minlength=count)
        counts[:, column] = np.bincount(rows, minlength=count)
    seed = cell_seed(settings.EVAL_SEED, *cell.labels)
    drawn = resampled_means(sums, counts, seed, iters=RANK_RESAMPLES)
    for column, job in enumerate(jobs):
        got = figures[job]
        got.units, got.replicates = digest, np.ascontiguousarray(drawn[:, column])
    RankCell.objects.bulk_create(
        [
            RankCell(
                key=cell.key,
                release=cell.release,
                method=cell.method.key,
                metric=cell.metric.key,
                slices=cell.slices,
            )
        ],
        ignore_conflicts=True,
    )
    RankReplicates.objects.bulk_create(
        [
            RankReplicates(
                cell_id=cell.key,
                job_id=job,
                units=digest,
                held=np.packbits(figures[job].held).tobytes(),
                n=figures[job].n,
                mean=figures[job].mean,
                replicates=figures[job].replicates.astype("<f8").tobytes(),
            )
            for job in jobs
        ],
        update_conflicts=True,
        unique_fields=["cell", "job"],
        update_fields=["units", "held", "n", "mean", "replicates"],
        batch_size=500,
    )


def _place(
    cells: list[Cell], jobs: list[int], placed: _Placed, units_of: dict[str, _CellUnits]
) -> None:
    """Each of JOBS' values in each cell, with its unit's position there (UNITS_OF), into
    PLACED: one query for the jobs' packed values (`JobItemValues`) of the cells' method and
    metric."""
    if not jobs or not cells:
        return
    method, metric = cells[0].method, cells[0].metric
    packed_metric = item_values.VALUE if metric.key == method.value_metric.key else metric.key
    by_job: dict[int, dict[str, tuple[bytes, bytes]]] = {}
    rows = JobItemValues.objects.filter(
        job_id__in=jobs, method=method.key, metric__in=sorted({item_values.VALUE, packed_metric})
    )
    for job, row_metric, packed_items, packed_values in _fetch(
        rows.values_list("job_id", "metric", "items", "values")
    ):
        by_job.setdefault(job, {})[row_metric] = (bytes(packed_items), bytes(packed_values))
    # Where each job's items fall in a cell, per distinct sequence of item ids: the jobs of one
    # release mostly hold the same items in the same order, so this is worked out once.
    where: dict[tuple[str, bytes], tuple[np.ndarray, np.ndarray]] = {}
    for job, by_metric in by_job.items():
        if item_values.VALUE not in by_metric or packed_metric not in by_metric:
            continue  # no per-item values of the metric: the board says so
        metric_row = None if packed_metric == item_values.VALUE else by_metric[packed_metric]
        values = item_values.values_of(by_metric[item_values.VALUE], metric_row)
        ids_key = by_metric[item_values.VALUE][0]
        for cell in cells:
            if (cell.key, ids_key) not in where:
                units = units_of[cell.key]
                job_items = item_values.item_ids(by_metric[item_values.VALUE])
                if not len(units.ids):
                    where[(cell.key, ids_key)] = (np.zeros(len(job_items), bool), job_items)
                else:
                    at = np.minimum(np.searchsorted(units.ids, job_items), len(units.ids) - 1)
                    where[(cell.key, ids_key)] = (units.ids[at] == job_items, units.units[at])
            in_cell, positions = where[(cell.key, ids_key)]
            kept = in_cell & ~np.isnan(values)
            if kept.any():
                placed[cell.key][job] = (positions[kept], values[kept])


def _cell_units(cells: list[Cell]) -> dict[str, _CellUnits]:
    """cell key -> the cell's items and units, once per board version for these cells' items
    (one query; a board's other method, NaVAB's agreement chart, shares it): read only when
    replicates are drawn."""
    first = cells[0]
    content = first.release.manifest.get(CONTENT_DIGEST, "")
    named = (first.release.pk, content, first.cluster, [sorted(c.slices.items()) for c in cells])
    key = hashlib.sha1(repr(named).encode()).hexdigest()
    read = cached_value(f"rank-cell-units|{key}", lambda: _read_cell_units(cells))
    return {cell.key: found for cell, found in zip(cells, read, strict=True)}


def _read_cell_units(cells: list[Cell]) -> list[_CellUnits]:
    """Each cell's items and units. The cells of one board differ in one slice at most (its
    columns: NaVAB's nations), so they are read in one query, each item with that slice."""
    first = cells[0]
    every = {key for cell in cells for key in cell.slices}
    differing = sorted(key for key in every if len({c.slices.get(key) for c in cells}) > 1)
    if len(differing) > 1 or any(key not in c.slices for key in differing for c in cells):
        return [found for cell in cells for found in _read_cell_units([cell])]
    shared = {key: value for key, value in first.slices.items() if key not in differing}
    narrowed: dict[str, object] = {f"slices__{key}": value for key, value in shared.items()}
    labels: dict[str, Combinable] = {}
    if differing:
        narrowed[f"slices__{differing[0]}__in"] = sorted({c.slices[differing[0]] for c in cells})
        labels["column"] = _text(f"slices__{differing[0]}")
    if first.cluster:
        labels["unit"] = _text(first.cluster)
    items = Item.objects.filter(release=first.release, **narrowed).annotate(**labels)
    by_column: dict[str, tuple[list[int], list[int], dict[str, int]]] = {}
    for record in items.order_by("id").values_list("id", *labels):
        rest = list(record[1:])
        column = str(rest.pop(0)) if differing else ""
        ids, unit_of, position = by_column.setdefault(column, ([], [], {}))
        ids.append(record[0])
        # Units are told apart by their label as text, as the cluster interval tells them.
        label = str(rest.pop(0)) if first.cluster else str(record[0])
        unit_of.append(position.setdefault(label, len(position)))
    found = []
    for cell in cells:
        ids, unit_of, position = by_column.get(
            cell.slices[differing[0]] if differing else "", ([], [], {})
        )
        found.append(
            _CellUnits(np.asarray(ids, np.int64), np.asarray(unit_of, np.int64), len(position))
        )
    return found


def _text(path: str) -> Combinable:
    """An item field, or a key of one of its JSON fields, read as text: a cell holds tens of
    thousands of items, too many to decode a JSON value for each."""
    return KT(path) if "__" in path else F(path)


def _fetch(rows: QuerySet[Any, tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """ROWS (a values_list with binary columns). On PostgreSQL they are read in the binary
    protocol: Django's text protocol sends bytea as hex and decodes it (a third of a cold
    board once 38 MB were read). The query is logged as Django logs its own."""
    if connection.vendor != "postgresql":
        return list(rows)
    sql, params = rows.query.sql_with_params()
    connection.ensure_connection()
    began = time.monotonic()
    with psycopg.Cursor(connection.connection) as cursor:
        found = cursor.execute(sql, params, binary=True).fetchall()
    if connection.queries_logged:
        spent = f"{time.monotonic() - began:.3f}"
        connection.queries_log.append({"sql": f"{sql} (binary)", "time": spent})
    return found
