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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from psycopg.types.json import Jsonb
from tqdm import tqdm

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.contract import BenchmarkDefinition
from evaluation.benchmarks.published import Problem, PublishedFile, PublishedRead, PublishedRecord
from leaderboard.catalog.facets import count_facets
from leaderboard.catalog.filters import field_filters
from leaderboard.catalog.models import Benchmark, DatasetRelease, Item, ItemSlice
from leaderboard.catalog.search import refresh_search_documents
from leaderboard.catalog.slices import index_slices

# Smaller INSERTs are faster here: Django and psycopg spend time per placeholder of a statement.
INSERT_BATCH: Final = 500
FETCH_BATCH: Final = 2000
# Below this many items the import is over before a progress bar would say anything.
PROGRESS_MIN_RECORDS: Final = 5000
PROBLEMS_SHOWN: Final = 50

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
        super().__init__(self.describe())

    def describe(self, limit: int = PROBLEMS_SHOWN) -> str:
        lines = [f"{len(self.problems)} problem(s); nothing was imported:"]
        lines += [f"  {problem}" for problem in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more")
        return "\n".join(lines)


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

    def summary(self) -> list[str]:
        state = "published" if self.release.is_published else "draft"
        if self.outcome == "unchanged":
            head = f"Release {self.version} ({state}) unchanged: it already holds these {self.total} items."
        else:
            head = f"Release {self.version} ({state}) {self.outcome}: {self.total} items."
        lines = [head]
        # Each cell by its values, as written: its count key percent-escapes a "/" in a value
        # ("Non-binary %2F third gender"), which is for splitting keys, not for reading.
        declaration = get_benchmark(self.release.benchmark.slug)
        lines += [
            f"  {' · '.join(declaration.count_values(cell).values())}: {n}"
            for cell, n in self.counts.items()
        ]
        lines.append(f"  skipped (filtered out by the release): {self.skipped}")
        lines.append(f"  duplicates kept once: {self.duplicates}")
        if self.incomplete:
            lines.append(f"  not complete items (auxiliary splits): {self.incomplete}")
        if self.dropped:
            lines.append(f"  in splits dropped as asked: {self.dropped}")
        return lines


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
    read = declaration.read_published(path)
    version = version or _default_version(path, read.metadata, declaration.slug)
    licence = licence.strip() or declaration.licence or ""
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

    fingerprint = fingerprint_rows(_item_row(declaration, r) for r in read.records)
    with transaction.atomic():
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
                    **_manifest(path, declaration, read, fingerprint),
                    "overlaps": overlaps,
                    "dropped_splits": dropped,
                },
                declaration=declaration,
                show_progress=show_progress,
            )
        if publish:
            release.publish()
    return ImportReport(
        release=release,
        outcome=outcome,
        total=len(read.records),
        counts=_cell_counts(declaration, read),
        skipped=read.skipped,
        duplicates=read.duplicates,
        incomplete=read.incomplete,
        dropped=read.dropped,
        files=read.files,
        notices=read.notices,
    )


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
        release.items.all().delete()
        release.title = title
        release.description = description or release.description
        release.license = licence
        release.source = source
        release.is_demo = is_demo
        release.manifest = manifest
        release.save()
    rows = [(release.pk, *_item_row(declaration, r)) for r in read.records]
    with tqdm(
        total=len(rows),
        desc=f"import {version}",
        unit="item",
        file=sys.stderr,
        disable=not show_progress or len(rows) < PROGRESS_MIN_RECORDS,
    ) as bar:
        _insert(rows, bar.update)
    items = Item.objects.filter(release=release)
    index_slices(Item, ItemSlice, items)
    refresh_search_documents(items, declaration)
    # From the records in hand (the items' declared fields): counting them again from the
    # database would read every item.
    names = [f.name for f in field_filters([declaration])]
    release.facets = count_facets(names, (r.fields for r in read.records))
    release.save(update_fields=["facets"])
    return release


INSERT_COLUMNS: Final = ("release_id", *FINGERPRINT_FIELDS)


def _insert(rows: list[tuple[Any, ...]], advance: Callable[[int], object]) -> None:
    """PostgreSQL's COPY (several times faster than INSERTs for a full release); batched
    bulk_create elsewhere. Either way inside the caller's transaction."""
    if connection.vendor == "postgresql":
        table = Item._meta.db_table
        statement = f"COPY {table} ({', '.join(INSERT_COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for start in range(0, len(rows), INSERT_BATCH):
                for row in rows[start : start + INSERT_BATCH]:
                    # COPY has no field to tell psycopg a dict is jsonb (slices, data, extra).
                    copy.write_row([Jsonb(v) if isinstance(v, dict) else v for v in row])
                advance(len(rows[start : start + INSERT_BATCH]))
        return
    for start in range(0, len(rows), INSERT_BATCH):
        batch = rows[start : start + INSERT_BATCH]
        Item.objects.bulk_create(
            Item(**dict(zip(INSERT_COLUMNS, row, strict=True))) for row in batch
        )
        advance(len(batch))


def _manifest(
    path: Path, declaration: BenchmarkDefinition, read: PublishedRead, fingerprint: str
) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "format": read.layout,
        "imported_from": path.name,
        "imported_at": timezone.now().isoformat(timespec="seconds"),
        "files": {f.name: f.as_manifest() for f in read.files},
        "counts": _cell_counts(declaration, read),
        "total": len(read.records),
        "skipped": read.skipped,
        "duplicates": read.duplicates,
        "incomplete": read.incomplete,
        "dropped": read.dropped,
        # Source records that did not become items (filtered out by the release, repeats,
        # records of an auxiliary split that are not complete items, or splits dropped).
        "rejected": read.skipped + read.duplicates + read.incomplete + read.dropped,
        "notices": read.notices,
        "content_sha256": fingerprint,
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


def fingerprint_rows(rows: Iterable[tuple[object, ...]]) -> str:
    """A sha256 over the rows, independent of their order (row digests are sorted)."""
    digests = sorted(
        # sort_keys: jsonb returns an object's keys in its own order, not the file's.
        hashlib.sha256(json.dumps(row, ensure_ascii=False, sort_keys=True).encode("utf-8")).digest()
        for row in rows
    )
    return hashlib.sha256(b"".join(digests)).hexdigest()


def release_fingerprint(release: DatasetRelease) -> str:
    """The fingerprint of the items the release holds now, as stored in the database."""
    rows = (
        Item.objects.filter(release=release)
        .order_by()
        .values_list(*FINGERPRINT_FIELDS)
        .iterator(chunk_size=FETCH_BATCH)
    )
    return fingerprint_rows(rows)
