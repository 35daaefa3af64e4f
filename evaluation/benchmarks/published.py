"""What reading a benchmark's published layout gives, whatever the benchmark: its records
(field -> value, plus the slice each falls in), the files read (sha256, counts) and every
problem found (file, index, key, reason), so the site can refuse a whole import at once.

Benchmarks' readers (`BenchmarkDefinition.read_published`) build these with the checks below; the site
only writes what they return. Nothing here knows a benchmark's fields.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import ijson

# Examples named in a notice about repeated records.
REPEATS_SHOWN: Final = 5
# Bytes read at a time from a JSON file parsed as it streams.
STREAM_CHUNK: Final = 1 << 16
# Characters of a value quoted in a problem.
SHOWN_CHARS: Final = 120

Unit = Literal["record", "line"]


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a file or one of its records cannot be imported."""

    file: str
    index: int | None
    reason: str
    # "record": 0-based position in a JSON list; "line": 1-based line of a JSONL file.
    unit: Unit = "record"
    # The record key at fault, when one is.
    key: str | None = None

    def __str__(self) -> str:
        where = self.file if self.index is None else f"{self.file} {self.unit} {self.index}"
        return f"{where}: {self.reason}"


@dataclass(slots=True)
class PublishedFile:
    name: str
    sha256: str = ""
    bytes: int = 0
    records: int = 0
    imported: int = 0
    skipped: int = 0
    duplicates: int = 0
    # Records of an auxiliary split that are not complete items: counted, not refused.
    incomplete: int = 0
    # Items of a split the operator chose to drop at import (a split repeating another).
    dropped: int = 0
    # The slice the file holds, where the layout splits files by slice (NaVAB: nation, mode).
    slice: dict[str, str] = field(default_factory=dict)

    def as_manifest(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "bytes": self.bytes,
            "records": self.records,
            "imported": self.imported,
            "skipped": self.skipped,
            "duplicates": self.duplicates,
            "incomplete": self.incomplete,
            "dropped": self.dropped,
            **self.slice,
        }


# A file's manifest entry (`PublishedFile.as_manifest`): these counts, then its slice.
_FILE_COUNT_KEYS: Final = frozenset(
    f for f in PublishedFile.__slots__ if f not in {"name", "slice"}
)


def manifest_file_slice(entry: dict[str, Any]) -> dict[str, str]:
    """The slice a manifest's file entry holds (NaVAB: nation and mode; DiverValue-Bench: a
    split), read back from `PublishedFile.as_manifest`."""
    return {k: str(v) for k, v in entry.items() if k not in _FILE_COUNT_KEYS}


@dataclass(frozen=True, slots=True)
class PublishedRecord:
    """One item as read: its values by field name, and its value on each slice dimension."""

    uid: str
    fields: dict[str, Any]
    slice: dict[str, str]
    source_file: str
    # 0-based position of the record in its file (its list index, or its line less one).
    source_index: int
    unit: Unit = "record"

    def problem(self, reason: str, key: str | None = None) -> Problem:
        """A problem of this record, located as its file's problems are."""
        return Problem(self.source_file, self._index, reason, unit=self.unit, key=key)

    @property
    def location(self) -> str:
        """Where the record is, as its problems name it ("US/x.json record 3")."""
        return f"{self.source_file} {self.unit} {self._index}"

    @property
    def _index(self) -> int:
        return self.source_index + 1 if self.unit == "line" else self.source_index


@dataclass(frozen=True, slots=True)
class SplitOverlap:
    """Two split files of one group (NaVAB: a nation's quoted and official files) holding some
    of the same items, so a ranking on one partly repeats the other."""

    first: PublishedFile
    second: PublishedFile
    #: items of the first that the second holds too
    shared: int

    @property
    def identical(self) -> bool:
        return self.first.sha256 == self.second.sha256

    @property
    def most(self) -> bool:
        """Identical files, or more than half of the smaller one's items shared: the import
        needs the operator's choice (keep both, or drop one)."""
        return self.identical or 2 * self.shared > min(self.first.imported, self.second.imported)

    def __str__(self) -> str:
        how = "identical files" if self.identical else "different files"
        return (
            f"{self.first.name} and {self.second.name} share {self.shared} item(s) "
            f"({how}; {self.first.imported} and {self.second.imported} items)"
        )


@dataclass(slots=True)
class PublishedRead:
    #: the layout that was read, recorded as the import's format ("navab", "jsonl", ...)
    layout: str
    records: list[PublishedRecord] = field(default_factory=list)
    files: list[PublishedFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    # The manifest.json of a release directory, when there is one.
    metadata: dict[str, Any] = field(default_factory=dict)
    # Split files sharing items, where the layout has several splits of one group.
    overlaps: list[SplitOverlap] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def incomplete(self) -> int:
        return sum(f.incomplete for f in self.files)

    @property
    def dropped(self) -> int:
        return sum(f.dropped for f in self.files)

    def add(self, source: PublishedFile, record: PublishedRecord) -> None:
        source.imported += 1
        self.records.append(record)

    def dedupe(self, same: str, agree: Mapping[str, str]) -> PublishedRead:
        """Keep the first record of each uid; count the repeats against their files. SAME says
        what a shared uid means (e.g. "same nation, mode, question and statement"); AGREE maps
        each field a repeat must share with the first to the layout's key for it (the key a
        problem names). A record that shares the uid but not those fields is no repeat: it is
        a conflict, refused with both records named, never one of them silently kept."""
        files = {f.name: f for f in self.files}
        first: dict[str, PublishedRecord] = {}
        kept: list[PublishedRecord] = []
        examples: list[str] = []
        for record in self.records:
            earlier = first.get(record.uid)
            if earlier is None:
                first[record.uid] = record
                kept.append(record)
                continue
            files[record.source_file].imported -= 1
            differ = [n for n in agree if record.fields.get(n) != earlier.fields.get(n)]
            if differ:
                self.problems += [
                    record.problem(
                        f"conflicts with {earlier.location} ({same}) but another {name}: "
                        f"{_shown(earlier.fields.get(name))} there, "
                        f"{_shown(record.fields.get(name))} here; conflicting records are "
                        "not duplicates: correct or remove one of them",
                        key=agree[name],
                    )
                    for name in differ
                ]
                continue
            files[record.source_file].duplicates += 1
            if len(examples) < REPEATS_SHOWN:
                examples.append(
                    f"{record.source_file} #{record.source_index} repeats "
                    f"{earlier.source_file} #{earlier.source_index}"
                )
        if examples:
            count = sum(f.duplicates for f in files.values())
            self.notices.append(
                f"{count} duplicate record(s) ({same}) kept once, e.g. {'; '.join(examples)}"
            )
        self.records = kept
        return self


def _shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """A value quoted for a problem, cut where it is long."""
    whole = str(value)
    return repr(whole if len(whole) <= limit else f"{whole[: limit - 1]}…")


# --- files ----------------------------------------------------------------------------------


def read_json_list(
    path: Path, name: str, read: PublishedRead, slice_: dict[str, str] | None = None
) -> tuple[PublishedFile, list[Any] | None]:
    """Record the file (sha256, size) and parse it as a JSON list; None (and a problem) when it
    is not UTF-8, not JSON, or not a list.

    A list is parsed record by record as the file is read (ijson), so only the records are held,
    not the file's bytes and text beside them (a full release's file is 60-80 MB). Anything
    else, and a file the streaming parser refuses, is read whole, which says exactly why."""
    source = PublishedFile(name=name, slice=slice_ or {})
    read.files.append(source)
    data = _stream_list(path, source)
    if data is None:
        data = _parse_whole(path, name, read, source)
        if data is None:
            return source, None
    source.records = len(data)
    return source, data


class _Hashing(io.RawIOBase):
    """A binary file whose bytes are hashed and counted as they are read."""

    def __init__(self, handle: io.BufferedReader, source: PublishedFile) -> None:
        self.handle, self.source, self.digest = handle, source, hashlib.sha256()
        self.tail = b""
        self.surrogate_escape = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.handle.readinto(buffer)
        chunk = bytes(memoryview(buffer)[:n])
        self.digest.update(chunk)
        self.source.bytes += n
        # The streaming parser reads a surrogate escape ("\\ud800") as "?": a lone one
        # would pass the checks as text. Such a file is parsed whole instead (the tail
        # catches an escape split across two reads).
        if _SURROGATE_ESCAPE.search(self.tail + chunk):
            self.surrogate_escape = True
        self.tail = chunk[-5:]
        return n


def _stream_list(path: Path, source: PublishedFile) -> list[Any] | None:
    """The file's list, parsed as it streams; None where it is not a plain JSON list (another
    value, a BOM, NaN, invalid text or JSON): the whole-file parse then says what it is."""
    with path.open("rb") as handle:
        if handle.read(1) != b"[" and not _starts_a_list(path):
            return None
        handle.seek(0)
        hashing = _Hashing(handle, source)
        try:
            stream = io.BufferedReader(hashing, STREAM_CHUNK)
            data = list(ijson.items(stream, "item", use_float=True))
        except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError, ValueError):
            data = None
        if data is None or hashing.surrogate_escape:
            source.bytes = 0
            return None
        source.sha256 = hashing.digest.hexdigest()
    return data


_SURROGATE_ESCAPE = re.compile(rb"\\[uU][dD][89a-fA-F]")


def _starts_a_list(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(STREAM_CHUNK).lstrip(b" \t\r\n")
    return head.startswith(b"[")


def _parse_whole(
    path: Path, name: str, read: PublishedRead, source: PublishedFile
) -> list[Any] | None:
    raw = path.read_bytes()
    source.sha256, source.bytes = hashlib.sha256(raw).hexdigest(), len(raw)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        read.problems.append(Problem(name, None, f"not UTF-8 text (byte {exc.start})"))
        return None
    except json.JSONDecodeError as exc:
        read.problems.append(
            Problem(name, None, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
        )
        return None
    if not isinstance(data, list):
        read.problems.append(
            Problem(name, None, f"expected a JSON list of records, found {type_name(data)}")
        )
        return None
    return data


def jsonl_lines(path: Path, source: PublishedFile) -> Iterator[tuple[int, bytes]]:
    """The 1-based number and bytes of each line; SOURCE gets the file's size and sha256."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for line_no, line in enumerate(handle, start=1):
            digest.update(line)
            source.bytes += len(line)
            yield line_no, line
    source.sha256 = digest.hexdigest()


# The site's whole-release downloads (`leaderboard.catalog.exports`): one row per item in
# `BenchmarkDefinition.export_columns`, every value a string (nested values as JSON text).
DOWNLOAD_FORMATS: Final = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
}


def download_format(path: Path) -> str | None:
    """ "jsonl", "csv" or "parquet" for a file named as the site's downloads are, else None."""
    return DOWNLOAD_FORMATS.get(path.suffix.lower()) if path.is_file() else None


def download_files(folder: Path) -> list[Path]:
    """The files of FOLDER (not its sub-folders) that are named as the site's downloads."""
    return sorted(p for p in folder.iterdir() if download_format(p) is not None)


@dataclass(slots=True)
class DownloadRows:
    """A download file's rows as objects, each with where a problem of it is located."""

    source: PublishedFile
    unit: Unit
    #: (index, row): a JSONL row's 1-based line, a CSV or Parquet row's 0-based position
    rows: list[tuple[int, dict[str, Any]]]


def read_download(path: Path, read: PublishedRead) -> DownloadRows:
    """Every row of a download file as an object; a row that is not one, and a file that cannot
    be read, are problems."""
    raw = path.read_bytes()
    source = PublishedFile(name=path.name, sha256=hashlib.sha256(raw).hexdigest(), bytes=len(raw))
    read.files.append(source)
    fmt = download_format(path)
    found = DownloadRows(source, "line" if fmt == "jsonl" else "record", [])
    try:
        if fmt == "jsonl":
            found.rows = _jsonl_objects(raw, path.name, read)
        elif fmt == "csv":
            reader = csv.DictReader(io.StringIO(raw.decode("utf-8"), newline=""))
            found.rows = list(enumerate(reader))
        else:
            import pyarrow.parquet as pq

            found.rows = list(enumerate(pq.read_table(io.BytesIO(raw)).to_pylist()))
    except UnicodeDecodeError as exc:
        read.problems.append(Problem(path.name, None, f"not UTF-8 text (byte {exc.start})"))
    except (csv.Error, OSError, ValueError) as exc:
        read.problems.append(Problem(path.name, None, f"not a readable {fmt} file: {exc}"))
    source.records = len(found.rows)
    return found


def _jsonl_objects(raw: bytes, name: str, read: PublishedRead) -> list[tuple[int, dict[str, Any]]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    for line_no, line in enumerate(raw.decode("utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            read.problems.append(Problem(name, line_no, f"invalid JSON: {exc.msg}", unit="line"))
            continue
        if not isinstance(row, dict):
            reason = f"expected an object, found {type_name(row)}"
            read.problems.append(Problem(name, line_no, reason, unit="line"))
            continue
        rows.append((line_no, row))
    return rows


def read_manifest(path: Path, read: PublishedRead) -> dict[str, Any]:
    """A release directory's manifest (a JSON object), or {} when there is none."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        read.problems.append(Problem(path.name, None, f"invalid JSON: {exc}"))
        return {}
    if not isinstance(data, dict):
        read.problems.append(
            Problem(path.name, None, f"expected a JSON object, found {type_name(data)}")
        )
        return {}
    return data


def check_manifest_checksums(read: PublishedRead, manifest_name: str) -> None:
    """Refuse files whose sha256 differs from the one the manifest records for them."""
    listed = read.metadata.get("files")
    for source in read.files:
        entry = listed.get(source.name) if isinstance(listed, dict) else None
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if expected and source.sha256 != expected:
            read.problems.append(
                Problem(
                    source.name,
                    None,
                    f"sha256 {source.sha256} differs from {manifest_name} ({expected}): "
                    "the file is incomplete or was changed",
                )
            )


# --- record checks --------------------------------------------------------------------------

KeyReason = tuple[str | None, str]


def check_strings(
    item: dict[str, Any], required: Sequence[str], optional: Sequence[str]
) -> list[KeyReason]:
    """(key, reason) for every required key that is missing, empty or not text, and every
    optional key that is present but not text."""
    reasons: list[KeyReason] = []
    for key in required:
        value = item.get(key)
        if key not in item:
            reasons.append((key, f"missing key {key!r}"))
        elif not isinstance(value, str):
            reasons.append((key, f"{key!r} must be a string, found {type_name(value)}"))
        elif not value.strip():
            reasons.append((key, f"empty {key!r}"))
    for key in optional:
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            reasons.append((key, f"{key!r} must be a string, found {type_name(value)}"))
    keys = (*required, *optional)
    if all_text(v for key in keys if isinstance(v := item.get(key), str)):
        return reasons
    for key in keys:
        value = item.get(key)
        problem = not_text(key, value) if isinstance(value, str) else None
        if problem:
            reasons.append((key, problem))
    return reasons


# A lone surrogate: JSON may spell one (`"\ud800"`), and Python decodes it into a str that
# no encoder takes (uids are hashes of UTF-8, PostgreSQL stores UTF-8).
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def not_text(key: str, value: str) -> str | None:
    """Why VALUE (of KEY) cannot be stored as text, or None."""
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail mid-insert.
    if "\x00" in value:
        return f"{key!r} contains a NUL character"
    if _SURROGATE.search(value):
        return f"{key!r} holds a lone surrogate (an unpaired \\ud800-\\udfff escape): not text"
    return None


def all_text(values: Iterable[str]) -> bool:
    """Whether every one of VALUES can be stored as text: one scan of them all, as a clean
    record (nearly every one) needs; `not_text` says which one cannot, and why."""
    joined = "".join(values)
    return "\x00" not in joined and not _SURROGATE.search(joined)


def json_problems(key: str, value: object) -> list[str]:
    """What PostgreSQL's jsonb cannot store of a kept value (json.loads accepts both)."""
    found: set[str] = set()
    strings: list[str] = []
    stack = [key, value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            strings.append(current)
        elif isinstance(current, float) and not math.isfinite(current):
            found.add(f"{key!r} contains NaN or Infinity")
        elif isinstance(current, dict):
            stack += [*current.keys(), *current.values()]
        elif isinstance(current, list):
            stack += current
    if not all_text(strings):
        found.update(problem for text in strings if (problem := not_text(key, text)))
    return sorted(found)


def text(item: dict[str, Any], key: str) -> str:
    """The key's text, stripped; "" when absent or not text."""
    value = item.get(key)
    return value.strip() if isinstance(value, str) else ""


def type_name(value: object) -> str:
    """A JSON value's type as a reason names it ("an object", "a number", "null")."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)
