"""The long part of per-example results (a method's sub-metric `parts` and the `details`:
log-likelihoods, a free answer, a judge's output) kept per job in one Parquet file under
MEDIA_ROOT, not in `SampleResult` rows.

Why: at 200 models on both full releases the rows are tens of millions; the JSON made a row
~580 bytes on PostgreSQL. Pages filter and sort on the row's short columns only; the long part
is read for the rows a page shows (an item page, a page of a job's results, one API page) or,
for compare and disparity, one method's outcomes of a job. The file is sorted by item with
small row groups, so reading one item out of it touches one row group.

This module knows only paths and ids: the data migration that moved the JSON out of the rows
calls it with its own historical rows.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# Small row groups: an item page reads one per job file, so a group is what one item costs.
ROW_GROUP = 2048
SCHEMA = pa.schema(
    [
        ("item_id", pa.int64()),
        ("method", pa.string()),
        ("parts", pa.string()),
        ("details", pa.string()),
    ]
)

# (item id, method) -> (parts, details)
Long = dict[tuple[int, str], tuple[dict[str, Any], dict[str, Any]]]


def details_dir() -> Path:
    from django.conf import settings

    return Path(settings.MEDIA_ROOT) / "sample-details"


def job_path(job_id: int, base: Path | None = None) -> Path:
    return (base or details_dir()) / f"job-{job_id}.parquet"


def write_job(
    job_id: int,
    rows: Iterable[tuple[int, str, Mapping[str, Any], Mapping[str, Any]]],
    base: Path | None = None,
) -> Path:
    """Replace the job's file with ROWS (item id, method, parts, details). Written to a
    temporary name and moved, so a reader never sees half a file."""
    ordered = sorted(rows, key=lambda r: (r[0], r[1]))
    table = pa.table(
        {
            "item_id": [r[0] for r in ordered],
            "method": [r[1] for r in ordered],
            "parts": [json.dumps(r[2], ensure_ascii=False) for r in ordered],
            "details": [json.dumps(r[3], ensure_ascii=False) for r in ordered],
        },
        schema=SCHEMA,
    )
    path = job_path(job_id, base)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    pq.write_table(table, partial, row_group_size=ROW_GROUP, compression="zstd")
    partial.replace(path)
    return path


def rewrite(job_id: int, changed: Long, base: Path | None = None) -> None:
    """The job's file with the long part of CHANGED (item id, method) replaced (a correction;
    a run's results are written whole by `store`)."""
    long = read_job(job_id, base=base) | changed
    write_job(job_id, ((i, m, p, d) for (i, m), (p, d) in long.items()), base)


def remove_job(job_id: int, base: Path | None = None) -> None:
    job_path(job_id, base).unlink(missing_ok=True)


def read_job(
    job_id: int,
    items: Iterable[int] | None = None,
    method: str | None = None,
    base: Path | None = None,
) -> Long:
    """The long part of the job's results, of ITEMS only (all when None) and of one METHOD
    (all when None). A job without a file (never stored, or deleted) has none."""
    path = job_path(job_id, base)
    if not path.exists():
        return {}
    wanted = None if items is None else sorted(set(items))
    if wanted == []:
        return {}
    condition = None
    if wanted is not None:
        condition = pc.field("item_id").isin(wanted)
        # The file is sorted by item: the range lets the reader skip row groups by statistics.
        condition &= (pc.field("item_id") >= wanted[0]) & (pc.field("item_id") <= wanted[-1])
    if method is not None:
        by_method = pc.field("method") == method
        condition = by_method if condition is None else condition & by_method
    table = pq.read_table(path, filters=condition)
    return {
        (item, meth): (json.loads(parts), json.loads(details))
        for item, meth, parts, details in zip(
            table.column("item_id").to_pylist(),
            table.column("method").to_pylist(),
            table.column("parts").to_pylist(),
            table.column("details").to_pylist(),
            strict=True,
        )
    }


class HasLong(Protocol):
    job_id: int
    triple_id: int
    method: str

    def keep_long(self, parts: dict[str, Any], details: dict[str, Any]) -> None: ...


def attach(samples: Iterable[HasLong]) -> None:
    """Give each of SAMPLES its parts and details: one read per job among them."""
    by_job: dict[int, list[HasLong]] = defaultdict(list)
    for sample in samples:
        by_job[sample.job_id].append(sample)
    for job_id, of_job in by_job.items():
        long = read_job(job_id, [s.triple_id for s in of_job])
        for sample in of_job:
            sample.keep_long(*long.get((sample.triple_id, sample.method), ({}, {})))


def outcomes(job_id: int, method: str) -> dict[int, Any]:
    """item id -> the `outcome` of the method's details (None where there is none): what
    compare and disparity need to compute an item's primary metric."""
    return {
        item: details.get("outcome")
        for (item, _), (_, details) in read_job(job_id, method=method).items()
    }


if TYPE_CHECKING:
    from leaderboard.evals.models import SampleResult


def store(job_id: int, samples: list[SampleResult]) -> None:
    """Store a job's results: the long part in its file first (a file whose rows never
    landed is overwritten by the next run and read by nothing), then the rows."""
    from leaderboard.evals.models import SampleResult

    write_job(job_id, ((s.triple_id, s.method, s.parts, s.details) for s in samples))
    SampleResult.objects.bulk_create(samples, batch_size=2000)
