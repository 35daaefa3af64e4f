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
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.db.models.expressions import Combinable
from django.db.models.fields.json import KT

from evaluation.benchmarks.contract import BenchmarkDefinition, IntervalMethod, Method, Metric
from evaluation.stats import cell_seed, resampled_means
from leaderboard.binary_rows import fetch_rows
from leaderboard.boards.cache import cached_value
from leaderboard.boards.models import RankCell, RankRanges, RankReplicates
from leaderboard.catalog.importer import CONTENT_DIGEST
from leaderboard.catalog.models import DatasetRelease, Item
from leaderboard.evals import item_values
from leaderboard.evals.disparity import cluster_path
from leaderboard.evals.models import EvaluationJob, JobItemValues, LanguageModel
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
    def items(self) -> tuple[object, ...]:
        """What names the cell's items and units: its release (and that release's content),
        slice values and resampling unit, the same for every method's cell of them."""
        content = self.release.manifest.get(CONTENT_DIGEST, "")
        return (self.release.pk, content, sorted(self.slices.items()), self.cluster)

    @cached_property
    def key(self) -> str:
        """Everything the replicates depend on but the jobs: a changed release content,
        seed or number of replicates names another cell."""
        named = (self.items, self.labels, settings.EVAL_SEED, RANK_RESAMPLES)
        return hashlib.sha1(repr(named).encode()).hexdigest()


@dataclass
class JobCell:
    """A job's figures in one cell: its per-item values' count and mean (what `rank_spread`
    checks against the stored score), the digest of the cell's units it holds (`holds`), and
    of the units its replicates were drawn over (`units`). The units it holds and its
    replicate scores are read only where they are needed."""

    units: str
    holds: str
    n: int
    mean: float
    held: np.ndarray | None = None
    replicates: np.ndarray | None = None


@dataclass(frozen=True)
class _CellUnits:
    """The cell's items by id (sorted) and each one's unit, as a position in the order the
    items first meet the units; `count` units in all."""

    ids: np.ndarray
    units: np.ndarray
    count: int


# job -> (each of its values' unit position, the values), per cell key
_Placed = dict[str, dict[int, tuple[np.ndarray, np.ndarray]]]


def figures_for(cells: list[Cell], jobs: list[int]) -> dict[str, dict[int, JobCell]]:
    """cell key -> job -> its figures in the cell, for the JOBS with per-item values there.
    One query reads the stored ones (no replicates: `with_replicates` reads those); jobs
    without them, and every job when the ranked jobs hold other units than the stored draws
    were over, have theirs drawn and stored."""
    found: dict[str, dict[int, JobCell]] = {cell.key: {} for cell in cells}
    stored = RankReplicates.objects.filter(cell__key__in=list(found), job_id__in=jobs)
    for key, job, drawn_over, holds, n, mean in stored.values_list(
        "cell_id", "job_id", "units", "holds", "n", "mean"
    ):
        found[str(key)][job] = JobCell(drawn_over, holds, n, mean)
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
    unions = _unions(cells, found)
    stale = {
        cell.key: [job for job, got in found[cell.key].items() if got.units != unions[cell.key][0]]
        for cell in cells
    }
    unread = sorted({job for drawn in stale.values() for job in drawn if job not in missing})
    if unread:
        units = units or _cell_units(cells)
        _place(cells, unread, placed, units)
    for cell in cells:
        if stale[cell.key]:
            found_units = units[cell.key].count
            _draw(
                cell,
                found[cell.key],
                stale[cell.key],
                placed[cell.key],
                unions[cell.key],
                found_units,
            )
    return found


def with_replicates(cells: list[Cell], found: dict[str, dict[int, JobCell]]) -> None:
    """Every job's replicate scores in FOUND, read where not drawn just now (one query)."""
    unread = {(key, job) for key, by_job in found.items() for job, got in by_job.items()
              if got.replicates is None}  # fmt: skip
    if not unread:
        return
    rows = RankReplicates.objects.filter(
        cell__key__in=sorted({key for key, _ in unread}),
        job_id__in=sorted({job for _, job in unread}),
    )
    for key, job, replicates in fetch_rows(rows.values_list("cell_id", "job_id", "replicates")):
        if (key, job) in unread:
            found[key][job].replicates = np.frombuffer(replicates, "<f8")


def stored_ranges(cells: list[Cell], ranked: str) -> list[tuple[int, int] | None] | None:
    """The ranges (each ranked job's best and worst rank) `keep_ranges` kept of a board of
    CELLS ranking what RANKED names (its jobs, in order, and their scores), if no replicates
    were drawn since: a board built again with the same ranked jobs (after any change
    elsewhere on the site, which makes every cached board stale) reads them instead of every
    job's figures and replicates. None where there are none."""
    stored = RankRanges.objects.filter(board=_board(cells), content=ranked).values_list("ranges")
    for (packed,) in fetch_rows(stored):
        pairs = np.frombuffer(packed, "<i4").reshape(-1, 2)
        return [(int(b), int(w)) if b else None for b, w in pairs]
    return None


def keep_ranges(cells: list[Cell], ranked: str, ranges: list[tuple[int, int] | None]) -> None:
    """RANGES, ranked on the replicates stored now, for `stored_ranges`."""
    packed = np.asarray([r or (0, 0) for r in ranges], "<i4").tobytes()
    _store(
        lambda: RankRanges.objects.bulk_create(
            [RankRanges(board=_board(cells), content=ranked, ranges=packed)],
            update_conflicts=True,
            unique_fields=["board"],
            update_fields=["content", "ranges"],
        )
    )


def _board(cells: list[Cell]) -> str:
    return hashlib.sha1(repr([cell.key for cell in cells]).encode()).hexdigest()


def _forget_ranges() -> None:
    """Every board's kept ranges: replicates are drawn again (rarely: a job published, or
    first shown), and the ranges ranked on the old ones no longer stand. A board ranks its
    replicates again once, when next built."""
    RankRanges.objects.all().delete()


def _store(write: Callable[[], object]) -> None:
    """WRITE in a savepoint, a failure logged: a page that draws what was missing still shows
    it when it cannot keep it (the next view draws it again), and the request's transaction
    stays usable."""
    try:
        with transaction.atomic():
            write()
    except DatabaseError:
        logger.exception("rank replicates or ranges not stored; drawn again when next shown")


def publish(job: EvaluationJob) -> None:
    """The job's replicates in every cell a board of its release has shown, drawn at publish
    time; any other job's too when this one holds units they were not drawn over. Logged, not
    raised: the board draws what is missing when it is next shown."""
    try:
        with transaction.atomic():
            RankReplicates.objects.filter(job=job).delete()  # results stored again
            _forget_ranges()
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
        # The jobs a board of the release ranks now (each model's latest), as the board
        # draws over the units those hold.
        latest = LanguageModel.objects.latest_jobs(job.release).values_list("pk", flat=True)
        ranked = sorted({job.pk, *latest})
        for cells in by_method.values():
            figures_for(cells, ranked)
    except Exception:
        logger.exception("rank replicates of job %s not drawn; boards draw them when shown", job.pk)


def _unions(
    cells: list[Cell], found: dict[str, dict[int, JobCell]]
) -> dict[str, tuple[str, np.ndarray | None]]:
    """cell key -> the digest of the units some job there holds, with those units where they
    had to be worked out: where every job holds the same units (a full run's), their digest
    is that union's and no job's units are read; else the stored jobs' are (one query)."""
    unions: dict[str, tuple[str, np.ndarray | None]] = {}
    mixed = []
    for cell in cells:
        holds = {got.holds for got in found[cell.key].values()}
        if len(holds) <= 1:
            unions[cell.key] = (holds.pop() if holds else _digest(np.zeros(0, bool)), None)
        else:
            mixed.append(cell)
    unread = {(cell.key, job) for cell in mixed for job, got in found[cell.key].items()
              if got.held is None}  # fmt: skip
    if unread:
        rows = RankReplicates.objects.filter(
            cell__key__in=sorted({key for key, _ in unread}),
            job_id__in=sorted({job for _, job in unread}),
        )
        for key, job, held in fetch_rows(rows.values_list("cell_id", "job_id", "held")):
            if (key, job) in unread:
                found[key][job].held = np.unpackbits(np.frombuffer(held, np.uint8)).astype(bool)
    for cell in mixed:
        union = _union([got.held for got in found[cell.key].values() if got.held is not None])
        unions[cell.key] = (_digest(union), union)
    return unions


def _union(held: list[np.ndarray]) -> np.ndarray:
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
    return JobCell("", _digest(held), len(values), mean, held=held)


def _draw(
    cell: Cell,
    figures: dict[int, JobCell],
    jobs: list[int],
    placed: dict[int, tuple[np.ndarray, np.ndarray]],
    union: tuple[str, np.ndarray | None],
    count: int,
) -> None:
    """Draw JOBS' replicates over UNION (the digest of the units some job of FIGURES holds,
    and those units where not every job holds the same: else they are any job's), of the
    cell's COUNT units, and store them."""
    digest, over = union
    held = {}
    for job in jobs:
        held[job] = np.zeros(count, dtype=bool)
        held[job][placed[job][0]] = True
    if over is None:
        over = held[jobs[0]]
    row_of = np.cumsum(over) - 1  # a held unit's row in the drawn table
    rows_in_all = int(over.sum())
    sums = np.zeros((rows_in_all, len(jobs)))
    counts = np.zeros((rows_in_all, len(jobs)))
    for column, job in enumerate(jobs):
        positions, values = placed[job]
        rows = row_of[positions]
        # bincount adds in input order (the values' stored order), as the sums always were.
        sums[:, column] = np.bincount(rows, weights=values, minlength=rows_in_all)
        counts[:, column] = np.bincount(rows, minlength=rows_in_all)
    seed = cell_seed(settings.EVAL_SEED, *cell.labels)
    drawn = resampled_means(sums, counts, seed, iters=RANK_RESAMPLES)
    for column, job in enumerate(jobs):
        got = figures[job]
        got.units, got.held = digest, held[job]
        got.holds = _digest(held[job])
        got.replicates = np.ascontiguousarray(drawn[:, column])

    def write() -> None:
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
                    units=figures[job].units,
                    holds=figures[job].holds,
                    held=np.packbits(held[job]).tobytes(),
                    n=figures[job].n,
                    mean=figures[job].mean,
                    replicates=drawn[:, column].astype("<f8").tobytes(),
                )
                for column, job in enumerate(jobs)
            ],
            update_conflicts=True,
            unique_fields=["cell", "job"],
            update_fields=["units", "holds", "held", "n", "mean", "replicates"],
            batch_size=500,
        )
        _forget_ranges()

    _store(write)


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
    for job, row_metric, packed_items, packed_values in fetch_rows(
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
    (one query; another method's board of the same cells shares it): read only when
    replicates are drawn."""
    key = hashlib.sha1(repr([cell.items for cell in cells]).encode()).hexdigest()
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
