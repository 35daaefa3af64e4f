"""The long part of per-example results (a method's sub-metric `parts` and the `details`:
log-likelihoods, a free answer, a judge's output) kept per job in one file under MEDIA_ROOT,
not in `SampleResult` rows.

Why: at 200 models on both full releases the rows are tens of millions; the JSON made a row
~580 bytes on PostgreSQL. Pages filter and sort on the row's short columns only; the long part
is read for the rows a page shows (an item page, a page of a job's results, one API page) or,
for compare and disparity, one method's outcomes of a job.

The file: the job's results sorted by item, in blocks of BLOCK results (JSON lines, each block
zlib-compressed on its own), then an index of each block's first and last item, offset and
length, then the index's offset and block count. An item page reads one item from each of up
to hundreds of job files, so one item costs the index and one small block, not a row group of
thousands of answers (a Parquet file's smallest unit).

This module knows only paths and ids: the data migration that moved the JSON out of the rows
calls it with its own historical rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, Protocol

BLOCK = 32  # results a block: a few of one item's neighbours decompressed for it
MAGIC = b"NVSD1\n"
ENTRY = struct.Struct("<qqqq")  # first item, last item, offset, length
TAIL = struct.Struct("<qq")  # index offset, blocks

# (item id, method) -> (parts, details)
Long = dict[tuple[int, str], tuple[dict[str, Any], dict[str, Any]]]


def details_dir() -> Path:
    from django.conf import settings

    return Path(settings.MEDIA_ROOT) / "sample-details"


class UnstorableOutput(ValueError):
    """A per-item result holds a value JSON cannot (NaN, infinity): computed from the model's
    output (NaN weights give NaN log-likelihoods), so the model's problem, as PostgreSQL's
    jsonb refused such details when they were kept in rows."""


def job_path(job_id: int, base: Path | None = None) -> Path:
    return (base or details_dir()) / f"job-{job_id}.jsonz"


def write_job(
    job_id: int,
    rows: Iterable[tuple[int, str, Mapping[str, Any], Mapping[str, Any]]],
    base: Path | None = None,
) -> Path:
    """Replace the job's file with ROWS (item id, method, parts, details). Written to a
    temporary name and moved, so a reader never sees half a file."""
    ordered = sorted(rows, key=lambda r: (r[0], r[1]))
    path = job_path(job_id, base)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    index = []
    try:
        with partial.open("wb") as out:
            out.write(MAGIC)
            for start in range(0, len(ordered), BLOCK):
                block = ordered[start : start + BLOCK]
                lines = "\n".join(_line(r) for r in block)
                data = zlib.compress(lines.encode(), 6)
                index.append(ENTRY.pack(block[0][0], block[-1][0], out.tell(), len(data)))
                out.write(data)
            at = out.tell()
            out.write(b"".join(index))
            out.write(TAIL.pack(at, len(index)))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    return path


def _line(row: tuple[int, str, Mapping[str, Any], Mapping[str, Any]]) -> str:
    try:
        return json.dumps(list(row), ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        raise UnstorableOutput(f"item {row[0]}, {row[1]}: {exc}") from exc


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
    wanted = None if items is None else sorted(set(items))
    if wanted == []:
        return {}
    try:
        handle = job_path(job_id, base).open("rb")
    except FileNotFoundError:
        return {}
    found: Long = {}
    keep = None if wanted is None else set(wanted)
    # A line starts `[item, "method",` (`_line`): another method's line is passed over
    # undecoded (a judges page reads one method of files holding several, hundreds a page).
    named = None if method is None or "," in method else json.dumps(method, ensure_ascii=False)
    with handle:
        for offset, length in _blocks(handle, wanted):
            handle.seek(offset)
            for line in zlib.decompress(handle.read(length)).decode().split("\n"):
                if named is not None and line.split(",", 2)[1].strip() != named:
                    continue
                item, meth, parts, details = json.loads(line)
                if (keep is None or item in keep) and (method is None or meth == method):
                    found[(item, meth)] = (parts, details)
    return found


def _blocks(handle: BinaryIO, wanted: list[int] | None) -> list[tuple[int, int]]:
    """(offset, length) of the blocks that may hold WANTED items (all where None)."""
    handle.seek(-TAIL.size, os.SEEK_END)
    at, count = TAIL.unpack(handle.read(TAIL.size))
    handle.seek(at)
    index = handle.read(count * ENTRY.size)
    if wanted is None:
        return [(offset, length) for _, _, offset, length in ENTRY.iter_unpack(index)]

    def entry(block: int) -> tuple[int, int, int, int]:
        return ENTRY.unpack_from(index, block * ENTRY.size)

    chosen: set[int] = set()
    for item in wanted:
        # The last block starting at or before the item (a binary search over the index
        # as read, not unpacked: a NaVAB job's index has thousands of entries)...
        low, high = 0, count
        while low < high:
            middle = (low + high) // 2
            if entry(middle)[0] <= item:
                low = middle + 1
            else:
                high = middle
        # ...and those before it that the item's results run over from.
        block = low - 1
        while block >= 0 and entry(block)[1] >= item:
            chosen.add(block)
            block -= 1
    return [(entry(b)[2], entry(b)[3]) for b in sorted(chosen)]


class HasLong(Protocol):
    job_id: int
    item_id: int
    method: str

    def keep_long(self, parts: dict[str, Any], details: dict[str, Any]) -> None: ...


def attach(samples: Iterable[HasLong]) -> None:
    """Give each of SAMPLES its parts and details: one read per job among them."""
    by_job: dict[int, list[HasLong]] = defaultdict(list)
    for sample in samples:
        by_job[sample.job_id].append(sample)
    for job_id, of_job in by_job.items():
        long = read_job(job_id, [s.item_id for s in of_job])
        for sample in of_job:
            sample.keep_long(*long.get((sample.item_id, sample.method), ({}, {})))


# How long a job's outcomes stay in the cache: a file's key changes when it is rewritten.
OUTCOMES_TTL_S = 7 * 24 * 3600


def outcomes(job_id: int, method: str) -> dict[int, Any]:
    """item id -> the `outcome` of the method's details (None where there is none): what
    compare, disparity and rank ranges need to compute an item's primary metric.

    Kept in the cache under the file's size and modification time: a board rebuilt after one
    new job reads that job's file, not every ranked job's again (a DiverValue-Bench file holds
    the judges' outputs too, all decoded to find one method's outcomes)."""
    from django.core.cache import cache

    path = job_path(job_id)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    # The path too: sites (and test runs) sharing a cache reuse job ids.
    where = hashlib.sha256(str(path).encode()).hexdigest()[:16]  # a key without spaces
    key = f"outcomes:{where}:{method}:{stat.st_mtime_ns}:{stat.st_size}"
    found: dict[int, Any] | None = cache.get(key)
    if found is None:
        found = {
            item: details.get("outcome")
            for (item, _), (_, details) in read_job(job_id, method=method).items()
        }
        cache.set(key, found, OUTCOMES_TTL_S)
    return found
