"""Import a dataset release of any registered benchmark, as its declaration's `read_published`
reads it (its published layout, or the release directory the site exports): NaVAB's release
folders or triples.jsonl, DiverValue-Bench's JSON lists, a benchmark registered by the tests.

`import_release` is the one entry point (the `import_release` command and its NaVAB alias
`import_navab`, the demo data and the pipeline integration call it). Every file is read and checked before anything is written; any
problem refuses the whole import, and the writes happen in one transaction. Importing the same
content again changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from tqdm import tqdm

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.contract import BenchmarkDefinition
from evaluation.benchmarks.published import (
    Problem,
    PublishedFile,
    PublishedRead,
    PublishedRecord,
    manifest_file_slice,
)
from leaderboard.catalog.facets import count_facets, field_filters
from leaderboard.catalog.models import Benchmark, DatasetRelease, Item, ItemSlice
from leaderboard.catalog.search import document_sql
from leaderboard.catalog.slices import index_slices

# Smaller INSERTs are faster here: Django and psycopg spend time per placeholder of a statement.
INSERT_BATCH: Final = 500
FETCH_BATCH: Final = 2000
# Batches sent to PostgreSQL ahead of its answers: enough to keep it busy while this process
# reads the next ones, few enough that their memory does not add up.
PIPELINE_DEPTH: Final = 4
# Below this many items the import is over before a progress bar would say anything.
PROGRESS_MIN_RECORDS: Final = 5000
# What the command prints stays on a screen, whatever the release: the problems, and the
# values of a dimension, beyond these are in the full report file.
PROBLEMS_SHOWN: Final = 10
LINE_CHARS: Final = 150
REPORT_FILE: Final = "import-report.txt"
# A refused import's problems: beside the report, not over it (a refused re-import of a
# release leaves the report of what it holds).
PROBLEMS_FILE: Final = "import-problems.txt"
# Bumped when reading the same files would import other items (a reader changed): a release
# imported under another format is read again, not taken as unchanged.
IMPORT_FORMAT: Final = 1
# The manifest key of `source_digest`: the files the release's items were imported from.
SOURCE_DIGEST: Final = "source_sha256"
# The manifest key of the items' content fingerprint (`fingerprint_rows`).
CONTENT_DIGEST: Final = "content_sha256"

# The benchmark of callers that name none: the pipeline builds NaVAB releases.
DEFAULT_BENCHMARK: Final = "navab"

# What an import writes to an item besides its uid, slices and declared fields.
PROVENANCE_FIELDS: Final = ("extra", "source_file", "source_index")
# The content compared on re-import: everything an import writes to an item.
FINGERPRINT_FIELDS: Final = ("uid", "slices", "data", *PROVENANCE_FIELDS)

Outcome = Literal["created", "replaced", "unchanged"]


class ImportFailed(Exception):
    """The source cannot be imported; nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        #: the file listing every problem, once written (`write_problems`)
        self.report_path: Path | None = None
        super().__init__(self.describe())

    def describe(self, limit: int = PROBLEMS_SHOWN) -> str:
        lines = [f"{len(self.problems)} problem(s); nothing was imported:"]
        lines += [f"  {problem}" for problem in self.problems[:limit]]
        if len(self.problems) > limit:
            where = f": all in {self.report_path}" if self.report_path else ""
            lines.append(f"  ... and {len(self.problems) - limit} more{where}")
        return "\n".join(lines)

    def write_problems(self, version: str) -> None:
        """Every problem, one a line, in a file in the release's folder (the message shows
        the first few)."""
        self.report_path = _write_report(
            version,
            [f"{len(self.problems)} problem(s); nothing was imported:"]
            + [f"  {problem}" for problem in self.problems],
            PROBLEMS_FILE,
        )
        self.args = (self.describe(),)


@dataclass(slots=True)
class ImportReport:
    release: DatasetRelease
    outcome: Outcome
    total: int
    counts: dict[str, int]
    skipped: int
    duplicates: int
    incomplete: int
    dropped: int
    files: list[PublishedFile] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        return self.release.version

    #: the full report (every cell's count, every file), written by the import
    report_path: Path | None = None

    def summary(self) -> list[str]:
        """What the command prints: bounded whatever the number of cells (counts per
        dimension, the first values of each); every cell is in the report file."""
        lines = [self._head()]
        lines += [f"  {line}" for line in dimension_lines(self.release.benchmark.slug, self.counts)]
        lines += [f"  {line}" for line in self._rejections()]
        if self.report_path is not None:
            lines.append(f"  full report: {self.report_path}")
        return lines

    def full_report(self) -> list[str]:
        """Every cell by its values, every file read, every notice."""
        declaration = get_benchmark(self.release.benchmark.slug)
        lines = [self._head(), "", "Items per cell:"]
        # Each cell by its values, as written: its count key percent-escapes a "/" in a value
        # ("Non-binary %2F third gender"), which is for splitting keys, not for reading.
        lines += [
            f"  {' · '.join(declaration.count_values(cell).values())}: {n}"
            for cell, n in self.counts.items()
        ]
        lines += ["", "Items per dimension:"]
        lines += [f"  {line}" for line in dimension_lines(declaration.slug, self.counts, None)]
        lines += ["", "Records not imported:", *(f"  {line}" for line in self._rejections())]
        lines += ["", "Files:"]
        lines += [
            f"  {f.name}: {f.records} records, {f.imported} imported, {f.bytes} bytes, "
            f"sha256 {f.sha256}"
            for f in self.files
        ]
        if self.notices:
            lines += ["", "Notices:", *(f"  {notice}" for notice in self.notices)]
        return lines

    def _head(self) -> str:
        state = "published" if self.release.is_published else "draft"
        if self.outcome == "unchanged":
            return (
                f"Release {self.version} ({state}) unchanged: it already holds these "
                f"{self.total} items."
            )
        return f"Release {self.version} ({state}) {self.outcome}: {self.total} items."

    def _rejections(self) -> list[str]:
        lines = [
            f"skipped (filtered out by the release): {self.skipped}",
            f"duplicates kept once: {self.duplicates}",
        ]
        if self.incomplete:
            lines.append(f"not complete items (auxiliary splits): {self.incomplete}")
        if self.dropped:
            lines.append(f"in splits dropped as asked: {self.dropped}")
        return lines


def dimension_lines(slug: str, counts: dict[str, int], width: int | None = LINE_CHARS) -> list[str]:
    """One line per slice dimension: its values with their items, the largest first, as many
    as fit in WIDTH characters (None: all of them)."""
    declaration = get_benchmark(slug)
    per: dict[str, Counter[str]] = {d.key: Counter() for d in declaration.slices}
    for cell, n in counts.items():
        for key, value in declaration.count_values(cell).items():
            per[key][value] += n
    lines = []
    for dimension in declaration.slices:
        # The largest first; ties in the dimension's own order, so the same counts always
        # read the same.
        values = sorted(
            per[dimension.key].items(), key=lambda vn: (-vn[1], dimension.sort_key(vn[0]))
        )
        line = f"{dimension.label} ({len(values)} values):"
        for shown, (value, n) in enumerate(values):
            part = f" {value or '(blank)'} {n}"
            more = f" and {len(values) - shown} more"
            if width is not None and shown and len(line) + len(part) + len(more) > width:
                line += more
                break
            line += part if not shown else f",{part}"
        lines.append(line)
    return lines


def report_dir(version: str) -> Path:
    """The release's media folder (its whole-release downloads are built there too)."""
    return Path(settings.MEDIA_ROOT) / "releases" / (slugify(version) or "unnamed")


def _write_report(version: str, lines: list[str], name: str = REPORT_FILE) -> Path | None:
    path = report_dir(version) / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError:
        return None  # the summary still says everything that matters; no report to point at
    return path


def import_release(
    path: Path | str,
    *,
    benchmark: str = DEFAULT_BENCHMARK,
    version: str | None = None,
    licence: str = "",
    title: str = "",
    description: str = "",
    source: str | None = None,
    is_demo: bool = False,
    publish: bool = False,
    show_progress: bool = False,
    keep_overlapping_splits: bool = False,
    drop_splits: Sequence[str] = (),
) -> ImportReport:
    """Import PATH as the release VERSION of BENCHMARK (a registered slug); raises
    ImportFailed with every problem found.

    PATH is whatever the benchmark's `read_published` reads (NaVAB: its published folder, a
    release directory or a triples.jsonl file). VERSION defaults to the release directory's
    manifest version, else to the folder or file name. LICENCE defaults to the benchmark's
    declared one; a benchmark whose publisher states none needs one here. SOURCE defaults to
    "demo" for demo data, "pipeline" for a pipeline run's output, else "imported".

    Two split files that mostly hold the same items (`SplitOverlap.most`) refuse the import
    unless the operator chooses: KEEP_OVERLAPPING_SPLITS imports both, DROP_SPLITS (count
    keys, NaVAB "cn/official") leaves those splits out. Either way the manifest and the
    release card say so.
    """
    path = Path(path)
    try:
        declaration = get_benchmark(benchmark)
    except KeyError as exc:
        raise ImportFailed([Problem(path.name, None, str(exc.args[0]))]) from exc
    licence = licence.strip() or declaration.licence or ""
    digest = source_digest(
        path, declaration.slug, keep_overlapping_splits=keep_overlapping_splits, drop=drop_splits
    )
    if version and licence and digest:
        unchanged = _unchanged(version, declaration, digest, title=title, publish=publish)
        if unchanged is not None:
            return unchanged
    try:
        return _import(
            path,
            declaration,
            version=version,
            licence=licence,
            title=title,
            description=description,
            source=source,
            is_demo=is_demo,
            publish=publish,
            show_progress=show_progress,
            keep_overlapping_splits=keep_overlapping_splits,
            drop_splits=drop_splits,
            digest=digest,
        )
    except ImportFailed as failed:
        failed.write_problems(version or _default_version(path, {}, declaration.slug))
        raise


def _import(
    path: Path,
    declaration: BenchmarkDefinition,
    *,
    version: str | None,
    licence: str,
    title: str,
    description: str,
    source: str | None,
    is_demo: bool,
    publish: bool,
    show_progress: bool,
    keep_overlapping_splits: bool,
    drop_splits: Sequence[str],
    digest: str,
) -> ImportReport:
    read = declaration.read_published(path)
    version = version or _default_version(path, read.metadata, declaration.slug)
    problems = list(read.problems)
    overlaps = _resolve_overlaps(
        declaration, read, set(drop_splits), keep=keep_overlapping_splits, problems=problems
    )
    dropped = _drop(declaration, read, drop_splits, problems)
    if not licence:
        problems.append(
            Problem(
                path.name,
                None,
                f"{declaration.name} states no licence for its data: state the release's "
                "licence (--licence)",
            )
        )
    try:
        validate_slug(version)
    except ValidationError:
        problems.append(Problem(path.name, None, f"version {version!r} is not a slug"))
    if not problems and not read.records:
        problems.append(Problem(path.name, None, "no items to import"))
    if problems:
        raise ImportFailed(problems)

    counts = _cell_counts(declaration, read)
    with transaction.atomic():
        release = _locked_release(version, declaration, path)
        # Compared with a release that is there; a new release's fingerprint is taken while
        # its items are written, where it costs no time (the server is the slower side).
        fingerprint = (
            fingerprint_rows(_item_row(declaration, r) for r in read.records)
            if release is not None
            else None
        )
        if release is not None and release_fingerprint(release) == fingerprint:
            outcome: Outcome = "unchanged"
            if title and title != release.title:
                release.title = title
                release.save(update_fields=["title"])
        else:
            if release is not None and release.is_published:
                raise ImportFailed(
                    [
                        Problem(
                            path.name,
                            None,
                            f"release {version} is published and holds other items; "
                            "published releases do not change: import under a new version",
                        )
                    ]
                )
            outcome = "created" if release is None else "replaced"
            release = _write(
                release,
                read,
                version=version,
                title=title or str(read.metadata.get("title") or f"{declaration.name} {version}"),
                description=description,
                licence=licence,
                source=source or _default_source(read, is_demo),
                is_demo=is_demo,
                manifest={
                    **_manifest(path, read, counts),
                    "overlaps": overlaps,
                    "dropped_splits": dropped,
                    SOURCE_DIGEST: digest,
                },
                declaration=declaration,
                show_progress=show_progress,
            )
        if publish:
            release.publish()
    if outcome != "unchanged":
        _refresh_statistics()
    report = ImportReport(
        release=release,
        outcome=outcome,
        total=len(read.records),
        counts=counts,
        skipped=read.skipped,
        duplicates=read.duplicates,
        incomplete=read.incomplete,
        dropped=read.dropped,
        files=read.files,
        notices=read.notices,
    )
    report.report_path = _write_report(release.version, report.full_report())
    return report


def _refresh_statistics() -> None:
    """The item tables' planner statistics taken again after a bulk write (what autovacuum
    would do a minute later): a board's first reads of a just-imported release otherwise plan
    on counts from before it, and PostgreSQL chose sequential scans that took five times as
    long."""
    with connection.cursor() as cursor:
        for model in (Item, ItemSlice):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _locked_release(
    version: str, declaration: BenchmarkDefinition, path: Path
) -> DatasetRelease | None:
    """The release VERSION, locked for this import; one of another benchmark is refused."""
    release = DatasetRelease.objects.select_for_update().filter(version=version).first()
    if release is not None and release.benchmark.slug != declaration.slug:
        raise ImportFailed(
            [
                Problem(
                    path.name,
                    None,
                    f"release {version} belongs to {release.benchmark.name}: import "
                    f"this {declaration.name} release under another version",
                )
            ]
        )
    return release


# --- a re-import of the same files ----------------------------------------------------------


def source_digest(
    path: Path, slug: str, *, keep_overlapping_splits: bool, drop: Sequence[str]
) -> str:
    """A sha256 over every file under PATH (names and bytes) and what the import was asked to
    do with them; "" when PATH is not there. Equal digests import the same items, so a
    re-import of the same files stops here instead of reading every record (a full release
    takes a minute to read and check)."""
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
    else:
        return ""
    options = [IMPORT_FORMAT, slug, keep_overlapping_splits, sorted(drop)]
    digest = hashlib.sha256(json.dumps(options).encode("utf-8"))
    for file in files:
        name = file.name if file == path else file.relative_to(path).as_posix()
        with file.open("rb") as handle:
            content = hashlib.file_digest(handle, "sha256").digest()
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0" + content)
    return digest.hexdigest()


def _unchanged(
    version: str, declaration: BenchmarkDefinition, digest: str, *, title: str, publish: bool
) -> ImportReport | None:
    """The report of a release already imported from these very files, from its manifest
    (its items are not read); None where the files, or the release, differ."""
    with transaction.atomic():
        release = (
            DatasetRelease.objects.select_for_update()
            .select_related("benchmark")
            .filter(version=version)
            .first()
        )
        manifest = release.manifest if release is not None else None
        if (
            release is None
            or release.benchmark.slug != declaration.slug
            or not isinstance(manifest, dict)
            or manifest.get(SOURCE_DIGEST) != digest
        ):
            return None
        if title and title != release.title:
            release.title = title
            release.save(update_fields=["title"])
        if publish:
            release.publish()
    report = ImportReport(
        release=release,
        outcome="unchanged",
        total=_count(manifest.get("total")),
        counts={str(k): _count(v) for k, v in (manifest.get("counts") or {}).items()},
        skipped=_count(manifest.get("skipped")),
        duplicates=_count(manifest.get("duplicates")),
        incomplete=_count(manifest.get("incomplete")),
        dropped=_count(manifest.get("dropped")),
        files=_manifest_files(manifest.get("files")),
        notices=[str(n) for n in manifest.get("notices") or []],
    )
    path = report_dir(release.version) / REPORT_FILE
    report.report_path = path if path.is_file() else _write_report(version, report.full_report())
    return report


def _count(value: object) -> int:
    return value if isinstance(value, int) else 0


def _manifest_files(entries: object) -> list[PublishedFile]:
    if not isinstance(entries, dict):
        return []
    files = []
    for name, entry in entries.items():
        if isinstance(entry, dict):
            counts = {k: entry[k] for k in PublishedFile.__slots__ if k in entry and k != "slice"}
            files.append(PublishedFile(name=str(name), **counts, slice=manifest_file_slice(entry)))
    return files


def _default_version(path: Path, metadata: dict[str, Any], slug: str) -> str:
    declared = metadata.get("version")
    if isinstance(declared, str) and declared:
        return declared
    return slugify(path.stem if path.is_file() else path.name) or slug


def _default_source(read: PublishedRead, is_demo: bool) -> str:
    if is_demo:
        return DatasetRelease.Source.DEMO
    if read.metadata.get("source") == DatasetRelease.Source.PIPELINE:
        return DatasetRelease.Source.PIPELINE
    return DatasetRelease.Source.IMPORTED


def _write(
    release: DatasetRelease | None,
    read: PublishedRead,
    *,
    version: str,
    title: str,
    description: str,
    licence: str,
    source: str,
    is_demo: bool,
    manifest: dict[str, Any],
    declaration: BenchmarkDefinition,
    show_progress: bool,
) -> DatasetRelease:
    if release is None:
        release = DatasetRelease.objects.create(
            benchmark=Benchmark.objects.get(slug=declaration.slug),
            version=version,
            title=title,
            description=description,
            license=licence,
            source=source,
            is_demo=is_demo,
            manifest=manifest,
        )
    else:
        # A draft re-imported with other content: its items (and any preview results on
        # them) are replaced; the manifest, and with it the cached export files, starts over.
        # Only the ids are read (the cascade deletes the slice rows and results by them):
        # a full release's items hold hundreds of megabytes of text. Not `release.items`:
        # its rows would each fetch their deferred release_id to be linked to `release`.
        Item.objects.filter(release=release).only("pk").delete()
        release.title = title
        release.description = description or release.description
        release.license = licence
        release.source = source
        release.is_demo = is_demo
        release.manifest = manifest
        release.save()
    with tqdm(
        total=len(read.records),
        desc=f"import {version}",
        unit="item",
        file=sys.stderr,
        disable=not show_progress or len(read.records) < PROGRESS_MIN_RECORDS,
    ) as bar:
        digests: list[bytes] = []
        rows = _digested((_item_row(declaration, r) for r in read.records), digests)
        if connection.vendor == "postgresql":
            _insert_postgres(release, declaration, rows, bar.update)
        else:
            _insert_rows(release, rows, bar.update)
            index_slices(Item, ItemSlice, Item.objects.filter(release=release))
    # From the records in hand (the items' declared fields): counting them again from the
    # database would read every item.
    names = [f.name for f in field_filters([declaration])]
    release.facets = count_facets(names, (r.fields for r in read.records))
    release.manifest = {**release.manifest, CONTENT_DIGEST: combine_digests(digests)}
    release.save(update_fields=["facets", "manifest"])
    return release


def _batches(rows: Iterable[tuple[object, ...]]) -> Iterator[list[tuple[object, ...]]]:
    batch: list[tuple[object, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == INSERT_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert_postgres(
    release: DatasetRelease,
    declaration: BenchmarkDefinition,
    rows: Iterable[tuple[object, ...]],
    advance: Callable[[int], object],
) -> None:
    """Each batch in one statement that writes the items with their search documents and
    their ItemSlice rows: no second pass over the release (an UPDATE of every row's document
    rewrote every row, the slices were one more scan). A batch travels as one JSON document
    that the server unpacks (`jsonb_to_recordset`): psycopg escaped every element of the
    arrays this used to send in Python, a third of the import's time. The statements are
    pipelined, so the server builds one batch's documents while this process reads the next."""
    items, slices = Item._meta.db_table, ItemSlice._meta.db_table
    document, document_params = document_sql(declaration, "u.data")
    columns = ", ".join(FINGERPRINT_FIELDS)
    statement = (
        f"WITH written AS (INSERT INTO {items} (release_id, {columns}, search_document) "
        f"SELECT %s, {', '.join(f'u.{c}' for c in FINGERPRINT_FIELDS)}, {document} "
        "FROM ROWS FROM (jsonb_to_recordset(%s::jsonb) AS (uid text, slices jsonb, "
        "data jsonb, extra jsonb, source_file text, source_index int)) "
        f"WITH ORDINALITY AS u({columns}, n) "
        # Ids in the file's order: the downloads list items by id.
        "ORDER BY u.n RETURNING id, slices) "
        f"INSERT INTO {slices} (item_id, dimension, value) "
        "SELECT written.id, s.key, s.value FROM written, jsonb_each_text(written.slices) s"
    )
    with connection.cursor() as cursor:
        # A server-side binding cursor: the batch is sent as a parameter, not quoted into
        # the statement's text (Django's cursors bind on the client).
        raw = psycopg.Cursor(cursor.cursor.connection)
        with raw.connection.pipeline() as pipeline:
            for number, batch in enumerate(_batches(rows), start=1):
                # The pipeline queues what the server has not read yet in this process:
                # waiting for it now and then keeps that to a few batches, not the release.
                if number % PIPELINE_DEPTH == 0:
                    pipeline.sync()
                document_rows = [dict(zip(FINGERPRINT_FIELDS, row, strict=True)) for row in batch]
                raw.execute(statement, [release.pk, *document_params, json.dumps(document_rows)])
                advance(len(batch))


def _insert_rows(
    release: DatasetRelease, rows: Iterable[tuple[object, ...]], advance: Callable[[int], object]
) -> None:
    """Batched bulk_create (SQLite: it has no search document to build)."""
    for batch in _batches(rows):
        Item.objects.bulk_create(
            Item(release=release, **dict(zip(FINGERPRINT_FIELDS, row, strict=True)))
            for row in batch
        )
        advance(len(batch))


def _manifest(path: Path, read: PublishedRead, counts: dict[str, int]) -> dict[str, Any]:
    """The manifest but the content fingerprint (`CONTENT_DIGEST`), set once the items are
    written."""
    manifest: dict[str, Any] = {
        "format": read.layout,
        "imported_from": path.name,
        "imported_at": timezone.now().isoformat(timespec="seconds"),
        "files": {f.name: f.as_manifest() for f in read.files},
        "counts": counts,
        "total": len(read.records),
        "skipped": read.skipped,
        "duplicates": read.duplicates,
        "incomplete": read.incomplete,
        "dropped": read.dropped,
        # Source records that did not become items (filtered out by the release, repeats,
        # records of an auxiliary split that are not complete items, or splits dropped).
        "rejected": read.skipped + read.duplicates + read.incomplete + read.dropped,
        "notices": read.notices,
    }
    if read.metadata:
        manifest["origin"] = read.metadata
    return manifest


def _cell_counts(declaration: BenchmarkDefinition, read: PublishedRead) -> dict[str, int]:
    """Items per slice (`BenchmarkDefinition.count_key`, NaVAB "nation/mode"), in the declared value
    order; a cell whose file was read but gave none shows as 0. Only a file that names a
    value on every declared dimension is a cell: a split file (DiverValue-Bench's
    {"split": ...}) is not, and would add an all-blank one."""
    counts = Counter(declaration.count_key(r.slice) for r in read.records)
    for source in read.files:
        cell = declaration.cell_key(source.slice)
        if cell is not None and not source.dropped:
            counts[cell] += 0
    return {key: counts[key] for key in sorted(counts, key=declaration.count_sort_key)}


# --- split files holding the same items ----------------------------------------------------


def _resolve_overlaps(
    declaration: BenchmarkDefinition,
    read: PublishedRead,
    drop: set[str],
    *,
    keep: bool,
    problems: list[Problem],
) -> list[dict[str, Any]]:
    """Each overlap as the manifest records it, with what became of it; one that needs the
    operator's choice and has none is a problem. Said in the notices too."""
    recorded = []
    for overlap in read.overlaps:
        splits = [declaration.count_key(f.slice) for f in (overlap.first, overlap.second)]
        chosen = [key for key in splits if key in drop]
        if chosen:
            outcome = f"dropped {' and '.join(chosen)} as asked"
        elif not overlap.most:
            outcome = "both imported: less than half of the smaller split is shared"
        elif keep:
            outcome = "both imported as asked: their scores are not independent"
        else:
            problems.append(
                Problem(
                    overlap.second.name,
                    None,
                    f"{overlap}: {splits[0]} and {splits[1]} would rank models on the same "
                    "items twice; import both anyway (--keep-overlapping-splits) or drop one "
                    f"(--drop-split {splits[0]} or --drop-split {splits[1]})",
                )
            )
            continue
        read.notices.append(f"{overlap}: {outcome}")
        recorded.append(
            {
                "files": [overlap.first.name, overlap.second.name],
                "splits": splits,
                "items": [overlap.first.imported, overlap.second.imported],
                "shared": overlap.shared,
                "identical": overlap.identical,
                "outcome": outcome,
            }
        )
    return recorded


def _drop(
    declaration: BenchmarkDefinition,
    read: PublishedRead,
    drop: Sequence[str],
    problems: list[Problem],
) -> dict[str, list[str]]:
    """Leave out the splits (count keys) the operator dropped: their files, counted as
    dropped; a key no file holds is a problem."""
    dropped: dict[str, list[str]] = {}
    for key in drop:
        files = [f for f in read.files if declaration.cell_key(f.slice) == key]
        if not files:
            held = sorted({declaration.cell_key(f.slice) or "" for f in read.files} - {""})
            problems.append(
                Problem(key, None, f"no split file holds {key} to drop (splits: {', '.join(held)})")
            )
            continue
        for source in files:
            source.dropped, source.imported = source.imported, 0
        dropped[key] = [f.name for f in files]
    names = {name for names in dropped.values() for name in names}
    read.records = [r for r in read.records if r.source_file not in names]
    return dropped


# --- content fingerprints -----------------------------------------------------------------


def _item_row(declaration: BenchmarkDefinition, record: PublishedRecord) -> tuple[object, ...]:
    """A record as the Item columns FINGERPRINT_FIELDS name: its value on each declared
    dimension, its declared fields, where it was read."""
    slices = {d.key: str(record.slice.get(d.key, "")) for d in declaration.slices}
    data = {f.name: record.fields.get(f.name) for f in declaration.content_fields()}
    extra = record.fields.get("extra") or {}
    return (record.uid, slices, data, extra, record.source_file, record.source_index)


def row_digest(row: tuple[object, ...]) -> bytes:
    # sort_keys: jsonb returns an object's keys in its own order, not the file's.
    return hashlib.sha256(
        json.dumps(row, ensure_ascii=False, sort_keys=True).encode("utf-8")
    ).digest()


def combine_digests(digests: Iterable[bytes]) -> str:
    """The fingerprint of rows from their digests, independent of their order (sorted)."""
    return hashlib.sha256(b"".join(sorted(digests))).hexdigest()


def fingerprint_rows(rows: Iterable[tuple[object, ...]]) -> str:
    """A sha256 over the rows, independent of their order."""
    return combine_digests(map(row_digest, rows))


def _digested(
    rows: Iterable[tuple[object, ...]], digests: list[bytes]
) -> Iterator[tuple[object, ...]]:
    """The rows, each one's digest added to DIGESTS as it passes."""
    for row in rows:
        digests.append(row_digest(row))
        yield row


def release_fingerprint(release: DatasetRelease) -> str:
    """The fingerprint of the items the release holds now, as stored in the database."""
    rows = (
        Item.objects.filter(release=release)
        .order_by()
        .values_list(*FINGERPRINT_FIELDS)
        .iterator(chunk_size=FETCH_BATCH)
    )
    return fingerprint_rows(rows)
