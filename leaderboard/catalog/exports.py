"""Items as files: JSONL, CSV and Parquet, streamed in constant memory.

The columns are the benchmark's exported fields in declared order, then the release
(`BenchmarkDefinition.export_columns`; NaVAB's are the harness's `TripleRecord` fields, which stock
lm-eval reproduction reads). Rows come from the database in chunks (`values_list(...).iterator()`), each format's encoder
turns them into byte chunks, and the same encoders serve a filtered download (streamed as it
is produced) and the whole-release files (built once under MEDIA_ROOT/releases/<version>/,
with their sha256 in the release manifest). `release_directory` writes the release in the
evaluation harness's directory format.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import tee
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.contract import BenchmarkDefinition
from evaluation.release import MANIFEST_FILE, write_benchmark_release
from leaderboard.catalog.models import DatasetRelease, Item, ItemSlice

Row = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ExportFormat:
    name: str
    content_type: str


FORMATS: Final = {
    "jsonl": ExportFormat("jsonl", "application/x-ndjson; charset=utf-8"),
    "csv": ExportFormat("csv", "text/csv; charset=utf-8"),
    "parquet": ExportFormat("parquet", "application/vnd.apache.parquet"),
}

# Rows fetched per database round trip (500 items with their decoded JSON, some 10 MB on a
# full DiverValue-Bench release: 2,000 held 30 MiB more in a worker), and bytes gathered
# before a chunk is handed on.
FETCH_ROWS: Final = 500
CHUNK_BYTES: Final = 64 * 1024
# A Parquet row group is held in memory (as Python strings, Arrow arrays and the encoded
# pages) until it is written, so it is bounded by its text as well as its rows: 5,000
# DiverValue-Bench items with their answers are some 20 MB of text, which a web worker's
# allocator kept after the download (+105 MiB); 2 MiB still compresses well.
PARQUET_GROUP_ROWS: Final = 5000
PARQUET_GROUP_BYTES: Final = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Columns:
    """One benchmark's export columns and where each comes from on an Item row."""

    benchmark: BenchmarkDefinition

    @property
    def names(self) -> tuple[str, ...]:
        return self.benchmark.export_columns()

    def item(
        self, uid: str, slices: dict[str, Any], data: dict[str, Any], release: str
    ) -> dict[str, Any]:
        """The item's exported fields by name, in the columns' order, JSON values kept as they
        are (a missing field is empty)."""
        by_field = {d.field: slices.get(d.key, "") for d in self.benchmark.slices}
        values = {**data, **by_field, "uid": uid, "release": release}
        return {name: "" if values.get(name) is None else values[name] for name in self.names}

    def row(self, uid: str, slices: dict[str, Any], data: dict[str, Any], release: str) -> Row:
        return tuple(_text(value) for value in self.item(uid, slices, data, release).values())


def _text(value: Any) -> str:
    # Every column is a string (Parquet's schema says so); a missing field is empty.
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def columns_for(release: DatasetRelease) -> Columns:
    return Columns(get_benchmark(release.benchmark.slug))


def _item_rows(queryset: QuerySet[Item]) -> Iterator[tuple[Any, ...]]:
    rows = queryset.values_list("uid", "slices", "data", "release__version")
    return rows.iterator(chunk_size=FETCH_ROWS)


def export_rows(queryset: QuerySet[Item], columns: Columns) -> Iterator[Row]:
    """The queryset's items as tuples in the columns' order, fetched in chunks."""
    return (columns.row(*row) for row in _item_rows(queryset))


# --- encoders -----------------------------------------------------------------------------


def jsonl_chunks(rows: Iterable[Row], names: tuple[str, ...]) -> Iterator[bytes]:
    lines: list[str] = []
    size = 0
    for row in rows:
        line = json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False) + "\n"
        lines.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield "".join(lines).encode("utf-8")
            lines, size = [], 0
    if lines:
        yield "".join(lines).encode("utf-8")


def csv_chunks(rows: Iterable[Row], names: tuple[str, ...]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate(0)
    yield buffer.getvalue().encode("utf-8")


class _ChunkSink:
    """A write-only file for pyarrow that hands written bytes on instead of keeping them."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        chunk = b"".join(self._parts)
        self._parts = []
        return chunk


def row_groups(rows: Iterable[Row], max_rows: int, max_bytes: int) -> Iterator[list[Row]]:
    """ROWS in consecutive groups of at most MAX_ROWS rows and about MAX_BYTES characters
    (a group ends with the row that reaches it)."""
    group: list[Row] = []
    size = 0
    for row in rows:
        group.append(row)
        size += sum(len(value) for value in row)
        if len(group) >= max_rows or size >= max_bytes:
            yield group
            group, size = [], 0
    if group:
        yield group


def parquet_chunks(rows: Iterable[Row], names: tuple[str, ...]) -> Iterator[bytes]:
    """A Parquet file written a row group at a time, each group's bytes handed on as soon as
    it is written: memory holds one group, whatever the number of rows."""
    # Imported on use: pyarrow adds some 70 MB to a process (web workers load it at start-up;
    # import_release, whose peak memory is counted, only once its items are written).
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = _ChunkSink()
    schema = pa.schema([pa.field(name, pa.string(), nullable=False) for name in names])
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        for group in row_groups(rows, PARQUET_GROUP_ROWS, PARQUET_GROUP_BYTES):
            columns = [pa.array(column, type=pa.string()) for column in zip(*group, strict=True)]
            del group  # the strings go once Arrow holds their copy
            writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema))
            del columns
            if chunk := sink.take():
                yield chunk
    yield sink.take()


_ENCODERS: Final = {"jsonl": jsonl_chunks, "csv": csv_chunks, "parquet": parquet_chunks}


def encode(rows: Iterable[Row], fmt: str, names: tuple[str, ...]) -> Iterator[bytes]:
    return _ENCODERS[fmt](rows, names)


def streaming_response(
    queryset: QuerySet[Item], columns: Columns, fmt: str, filename: str
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        encode(export_rows(queryset, columns), fmt, columns.names),
        content_type=FORMATS[fmt].content_type,
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- whole-release files ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportFile:
    format: str
    path: Path
    sha256: str
    bytes: int
    records: int


def release_export_dir(release: DatasetRelease) -> Path:
    return Path(settings.MEDIA_ROOT) / "releases" / release.version


def content_key(release: DatasetRelease) -> str:
    """Changes whenever the release's items are added, removed or re-imported.

    Count and id range catch every import (a re-import writes new rows); the importer's content
    checksum catches a draft replaced by the same number of rows. Cheap: one indexed aggregate.
    """
    stats = Item.objects.filter(release=release).aggregate(
        n=Count("id"), lo=Min("id"), hi=Max("id")
    )
    payload = json.dumps(
        [stats["n"], stats["lo"], stats["hi"], release.manifest.get("content_sha256", "")]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def _release_items(release: DatasetRelease) -> QuerySet[Item]:
    return Item.objects.filter(release=release).for_export()


def release_file(release: DatasetRelease, fmt: str) -> ExportFile:
    """The release as one file in FORMAT, built on first use and whenever its items change."""
    return release_files(release, (fmt,))[fmt]


def release_files(
    release: DatasetRelease, formats: Iterable[str] = tuple(FORMATS)
) -> dict[str, ExportFile]:
    """The release's whole-release file in each of FORMATS (every format by default, as after
    an import), the missing or stale ones built together in one read of the items."""
    directory = release_export_dir(release)
    key = content_key(release)
    exports = _exports(release.manifest)
    built: dict[str, ExportFile] = {}
    missing: list[str] = []
    for fmt in formats:
        path, entry = directory / f"items.{fmt}", exports.get(fmt)
        if (
            isinstance(entry, dict)
            and entry.get("content_key") == key
            and path.is_file()
            and path.stat().st_size == entry.get("bytes")
        ):
            built[fmt] = ExportFile(fmt, path, entry["sha256"], entry["bytes"], entry["records"])
        else:
            missing.append(fmt)
    if missing:
        new = _build(release, directory, missing)
        _record_exports(release, new, key)
        built.update((export.format, export) for export in new)
    return {fmt: built[fmt] for fmt in formats}


def _build(release: DatasetRelease, directory: Path, formats: list[str]) -> list[ExportFile]:
    """Each format's file from one pass over the items: every encoder reads the same rows
    (`tee`), the one furthest behind goes next, so the rows held between them stay within
    one Parquet row group. Reading the items three times took most of an import's time for
    its downloads."""
    directory.mkdir(parents=True, exist_ok=True)
    columns = columns_for(release)
    read = [0] * len(formats)

    def counted(at: int, rows: Iterator[Row]) -> Iterator[Row]:
        for row in rows:
            read[at] += 1
            yield row

    streams = tee(export_rows(_release_items(release), columns), len(formats))
    encoders = [
        encode(counted(at, stream), fmt, columns.names)
        for at, (stream, fmt) in enumerate(zip(streams, formats, strict=True))
    ]
    digests = [hashlib.sha256() for _ in formats]
    sizes = [0] * len(formats)
    # Written beside the targets and renamed over them, so readers see the old or the new file.
    with contextlib.ExitStack() as stack:
        handles = [
            stack.enter_context(
                tempfile.NamedTemporaryFile(dir=directory, prefix=f".items.{fmt}.", delete=False)
            )
            for fmt in formats
        ]
        try:
            active = set(range(len(formats)))
            while active:
                at = min(active, key=read.__getitem__)
                chunk = next(encoders[at], None)
                if chunk is None:
                    active.discard(at)
                    continue
                handles[at].write(chunk)
                digests[at].update(chunk)
                sizes[at] += len(chunk)
        except BaseException:
            for handle in handles:
                Path(handle.name).unlink(missing_ok=True)
            raise
    exports = []
    for at, fmt in enumerate(formats):
        path = directory / f"items.{fmt}"
        # Temporary files are private (0600); the published file is read by the web server too.
        os.chmod(handles[at].name, 0o644)
        os.replace(handles[at].name, path)
        # Before items were generic the file was `triples.<fmt>`: a deployed site's stale copy
        # goes.
        (directory / f"triples.{fmt}").unlink(missing_ok=True)
        exports.append(ExportFile(fmt, path, digests[at].hexdigest(), sizes[at], read[at]))
    return exports


def _exports(manifest: dict[str, Any]) -> dict[str, Any]:
    """A copy of the manifest's "exports" section (the manifest is editable JSON: check it)."""
    exports = manifest.get("exports")
    return dict(exports) if isinstance(exports, dict) else {}


def _record_exports(release: DatasetRelease, built: list[ExportFile], key: str) -> None:
    # Locked read-modify-write: two formats built at once must not drop each other's entry.
    with transaction.atomic():
        locked = DatasetRelease.objects.select_for_update().get(pk=release.pk)
        manifest: dict[str, Any] = dict(locked.manifest)
        exports = _exports(manifest)
        for export in built:
            exports[export.format] = {
                "path": str(export.path.relative_to(Path(settings.MEDIA_ROOT))),
                "sha256": export.sha256,
                "bytes": export.bytes,
                "records": export.records,
                "content_key": key,
                "built_at": timezone.now().isoformat(timespec="seconds"),
            }
        manifest["exports"] = exports
        locked.manifest = manifest
        locked.save(update_fields=["manifest"])
    release.manifest = manifest


# --- the harness's release directory ------------------------------------------------------


def release_directory(release: DatasetRelease) -> Path:
    """The release as its benchmark's harness reads it: the benchmark's `items_file` (each
    item's exported fields in declared order, so NaVAB's items file is the one stock lm-eval
    reproduction reads) and a manifest whose counts are keyed by `BenchmarkDefinition.count_key` and
    which lists each dimension's values. Written once per content.

    Each content version gets its own sub-directory (named by `content_key`), built in a
    temporary directory and renamed into place, so a worker never reads a half-written one.
    """
    key = content_key(release)
    root = release_export_dir(release) / "harness"
    target = root / key[:16]
    if (target / MANIFEST_FILE).is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=root, prefix=".build-"))
    try:
        columns = columns_for(release)
        benchmark = columns.benchmark
        items = (columns.item(*row) for row in _item_rows(_release_items(release)))
        write_benchmark_release(
            building,
            benchmark,
            items,
            metadata={
                "version": release.version,
                "title": release.title,
                "status": release.status,
                "content_key": key,
                "slices": release_slice_values(release, benchmark),
            },
        )
        building.chmod(0o755)
        try:
            building.rename(target)
        except OSError:
            # Another process finished the same directory first; theirs is identical.
            if not (target / MANIFEST_FILE).is_file():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    for stale in root.iterdir():
        if stale.name != target.name and not stale.name.startswith("."):
            shutil.rmtree(stale, ignore_errors=True)
    return target


def release_slice_values(
    release: DatasetRelease, benchmark: BenchmarkDefinition
) -> dict[str, list[str]]:
    """Each slice dimension's values the release holds, in the dimension's order."""
    pairs = (
        ItemSlice.objects.filter(item__release=release).values_list("dimension", "value").distinct()
    )
    held: dict[str, set[str]] = {d.key: set() for d in benchmark.slices}
    for dimension, value in pairs:
        if dimension in held:
            held[dimension].add(value)
    return {d.key: sorted(held[d.key], key=d.sort_key) for d in benchmark.slices}
