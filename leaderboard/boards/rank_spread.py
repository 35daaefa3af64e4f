"""Rank spread: each ranked model's best and worst rank over bootstrap resamples of the items
the board ranks on.

A shared rank says that intervals overlap; it does not say how far a model could move. Here
every model's score is recomputed on the same resampled items (paired: one draw serves every
model, as they answered the same items), the models are ranked in each replicate, and the
best and worst of those ranks are kept. Items are resampled as the metric's interval resamples
them (whole users where the metric declares a cluster). On an overall board (NaVAB's mean over
nations) each column is resampled on its own seed and the replicate score is the mean over
columns, as the ranked score is. Each job's replicate scores in a cell are drawn once and
stored (`rank_replicates`); a board reads them and ranks, and keeps the ranges it found for
the same ranked jobs and scores until replicates are drawn again (`stored_ranges`). The result
is cached with the board (see cache.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evaluation.benchmarks.contract import BenchmarkDefinition, Method, Metric
from leaderboard.boards.rank_replicates import (
    RANK_RESAMPLES,
    Cell,
    JobCell,
    figures_for,
    keep_ranges,
    stored_ranges,
    with_replicates,
)
from leaderboard.boards.ranking import rank_ranges
from leaderboard.catalog.models import DatasetRelease

__all__ = ["RANK_RESAMPLES", "RankedScore", "Spread", "rank_spread"]

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
    cells = {
        code: Cell(
            release,
            benchmark,
            method,
            metric,
            {**selected, column_key: code} if column_key else dict(selected),
        )
        for code in columns
    }
    jobs = [row.job_id for row in rows]
    ordered = [cells[code] for code in columns]
    ranked = _ranked(rows, columns)
    found_ranges = stored_ranges(ordered, ranked)
    if found_ranges is None:
        found = figures_for(ordered, jobs)
        by_column = {code: found[cell.key] for code, cell in cells.items()}
        checked = _check(rows, by_column, metric)
        if checked:
            return Spread({}, checked)
        with_replicates(ordered, found)
        per_column = [
            np.stack([_drawn(by_column[code][job]) for job in jobs], axis=1) for code in columns
        ]
        # The ranked score is the unweighted mean over the columns (one column: the cell).
        replicates = np.mean(per_column, axis=0)
        found_ranges = rank_ranges(replicates, higher_is_better=metric.higher_is_better)
        keep_ranges(ordered, ranked, found_ranges)
    ranges = {job: spread for job, spread in zip(jobs, found_ranges, strict=True) if spread}
    if len(ranges) != len(jobs):
        return Spread({}, "no resample held items of every ranked model")
    return Spread(ranges)


def _ranked(rows: Sequence[RankedScore], columns: list[str]) -> str:
    """What names the ranked rows for the ranges kept of them: each job, in order, with its
    score and number of items in each column (exact: as float64 bytes). The ranges were kept
    only where their per-item results gave back these scores (`_check`)."""
    figures = [(row.job_id, *(x for code in columns for x in row.cells[code])) for row in rows]
    return hashlib.sha1(np.asarray(figures, "<f8").tobytes()).hexdigest()


def _drawn(figures: JobCell) -> np.ndarray:
    assert figures.replicates is not None  # read by with_replicates
    return figures.replicates


def _check(
    rows: Sequence[RankedScore], found: dict[str, dict[int, JobCell]], metric: Metric
) -> str:
    """Why the per-item results cannot stand for the ranked scores ("" when they can): a job
    without them (stored before results were kept, or imported as scores only), or whose
    items do not give back its stored score."""
    missing = mismatched = 0
    for row in rows:
        for code, (score, n) in row.cells.items():
            got = found[code].get(row.job_id)
            if got is None:
                missing += 1
                break
            if got.n != n or abs(got.mean - score) > TOLERANCE * max(1.0, abs(score)):
                mismatched += 1
                break
    if missing:
        return f"{_models(missing)} no stored per-item results of {metric.label}"
    if mismatched:
        return f"{_models(mismatched)} per-item results that do not give back its stored {metric.label}"
    return ""


def _models(count: int) -> str:
    return "1 ranked model has" if count == 1 else f"{count} ranked models have"
