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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from evaluation.benchmarks.contract import BenchmarkDefinition, IntervalMethod, Method, Metric
from evaluation.benchmarks.disparity import item_metric_value
from evaluation.stats import cell_seed, resampled_means
from leaderboard.boards.ranking import rank_ranges
from leaderboard.evals import sample_details
from leaderboard.evals.disparity import cluster_path
from leaderboard.evals.models import SampleResult

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
    values = _item_values(benchmark, method, metric, selected, column_key, columns, rows)
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


# (job, column) -> [(unit label, value)]
ItemValues = dict[tuple[int, str], list[tuple[str, float]]]


def _item_values(
    benchmark: BenchmarkDefinition,
    method: Method,
    metric: Metric,
    selected: dict[str, str],
    column_key: str,
    columns: list[str],
    rows: Sequence[RankedScore],
) -> ItemValues:
    """Every ranked job's per-item values of METRIC in the board's cell(s), in one query; each
    with its resampling unit (its cluster, or the item itself)."""
    narrowed: dict[str, str | list[str]] = {
        f"item__slices__{key}": value for key, value in selected.items()
    }
    if column_key:
        narrowed[f"item__slices__{column_key}__in"] = columns
    needs_outcome = metric.key != method.value_metric.key
    cluster = cluster_path(benchmark, metric) if metric.interval is IntervalMethod.CLUSTER else None
    fields = ["job_id", "value", "item_id"]
    fields += [f"item__slices__{column_key}"] if column_key else []
    fields += [cluster] if cluster else []
    found: ItemValues = {}
    # Outcomes live in each job's details file (sample_details), read only where needed.
    outcomes = (
        {row.job_id: sample_details.outcomes(row.job_id, method.key) for row in rows}
        if needs_outcome
        else {}
    )
    samples = SampleResult.objects.filter(
        job_id__in=[row.job_id for row in rows], method=method.key, **narrowed
    ).values_list(*fields)
    for record in samples:
        job_id, value, item_id = record[0], record[1], record[2]
        rest = list(record[3:])
        code = str(rest.pop(0)) if column_key else ""
        outcome = outcomes[job_id].get(item_id) if needs_outcome else None
        unit = str(rest.pop(0)) if cluster else str(item_id)
        item = item_metric_value(method, metric.key, value, {"outcome": outcome})
        if item is not None:
            found.setdefault((job_id, code), []).append((unit, item))
    return found


def _check(rows: Sequence[RankedScore], values: ItemValues, metric: Metric) -> str:
    """Why the per-item results cannot stand for the ranked scores ("" when they can): a job
    without them (stored before results were kept, or imported as scores only), or whose
    items do not give back its stored score."""
    missing = mismatched = 0
    for row in rows:
        for code, (score, n) in row.cells.items():
            items = values.get((row.job_id, code), [])
            if not items:
                missing += 1
                break
            mean = sum(v for _, v in items) / len(items)
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
    simply has none there)."""
    index: dict[str, int] = {}
    for job in jobs:
        for unit, _ in values.get((job, code), []):
            index.setdefault(unit, len(index))
    sums = np.zeros((len(index), len(jobs)))
    counts = np.zeros((len(index), len(jobs)))
    for position, job in enumerate(jobs):
        for unit, value in values.get((job, code), []):
            sums[index[unit], position] += value
            counts[index[unit], position] += 1
    return sums, counts
