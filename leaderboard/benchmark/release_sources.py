"""Reading what the importer accepts: the NaVAB release folders, or our own triples.jsonl export.

Readers never touch the database: they turn files into `SourceRecord`s and collect every
problem (file, record index, reason) so the importer can refuse the whole import at once.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from evaluation.release import MANIFEST_FILE, TRIPLES_FILE
from leaderboard.benchmark.language import detect_language
from leaderboard.benchmark.models import make_triple_uid

# NaVAB record keys (the published JSON files).
Q_KEY: Final = "generated Q"
RS_KEY: Final = "generated reverse statement"
RAW_KEY: Final = "generated raw data"
FLAG_KEY: Final = "filter_flag"
NAVAB_REQUIRED: Final = ("statement", Q_KEY, RS_KEY)
NAVAB_OPTIONAL: Final = ("raw_news", "full_source", "source", RAW_KEY, "topic", "language")
# Anything else in a record is kept on the triple (`extra`) rather than refused: the release is
# LLM pipeline output and its keys may grow.
NAVAB_KEYS: Final = frozenset((FLAG_KEY, *NAVAB_REQUIRED, *NAVAB_OPTIONAL))
# The hub's French config names its split `officia`; accept files named after it too.
MODE_FILE_ALIASES: Final = {"officia_statement_result.json": "official_statement_result.json"}
# Hand-written booleans; any other text is the screening model's output (see screening_flag).
_TRUE_WORDS: Final = frozenset({"true", "yes", "1"})
_FALSE_WORDS: Final = frozenset({"false", "no", "0", ""})
# Examples of a split's non-triple records named in its notice.
INCOMPLETE_SHOWN: Final = 5
UNKNOWN_SPEAKERS: Final = frozenset({"", "unknown"})

# Our JSONL export (evaluation.release.TripleRecord keys).
JSONL_REQUIRED: Final = ("uid", "nation", "mode", "question", "statement", "reverse_statement")
JSONL_OPTIONAL: Final = ("speaker", "topic", "language", "news_excerpt", "release")
_UID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")

# Column sizes of benchmark.Triple that a record can overflow.
MAX_LENGTHS: Final = {"speaker": 255, "topic": 255, "language": 8}

SourceKind = Literal["navab", "jsonl"]


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a file or one of its records cannot be imported."""

    file: str
    index: int | None
    reason: str
    # "record": 0-based position in a JSON list; "line": 1-based line of a JSONL file.
    unit: Literal["record", "line"] = "record"
    # The record key at fault, when one is.
    key: str | None = None

    def __str__(self) -> str:
        where = self.file if self.index is None else f"{self.file} {self.unit} {self.index}"
        return f"{where}: {self.reason}"


@dataclass(slots=True)
class SourceFile:
    name: str
    sha256: str = ""
    bytes: int = 0
    records: int = 0
    imported: int = 0
    skipped: int = 0
    duplicates: int = 0
    # Records of an auxiliary split that are not complete triples: counted, not refused.
    incomplete: int = 0
    nation: str = ""
    mode: str = ""

    def as_manifest(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "sha256": self.sha256,
            "bytes": self.bytes,
            "records": self.records,
            "imported": self.imported,
            "skipped": self.skipped,
            "duplicates": self.duplicates,
            "incomplete": self.incomplete,
        }
        if self.nation:
            entry.update(nation=self.nation, mode=self.mode)
        return entry


@dataclass(frozen=True, slots=True)
class SourceRecord:
    uid: str
    nation: str
    mode: str
    question: str
    statement: str
    reverse_statement: str
    speaker: str
    full_source: str
    topic: str
    language: str
    news_excerpt: str
    raw_generation: str
    filter_flag: bool
    # The screening model's output the flag was derived from ("" when the flag was a boolean).
    filter_flag_text: str
    # Record keys the importer does not know, kept as published.
    extra: dict[str, Any]
    source_file: str
    source_index: int


@dataclass(slots=True)
class SourceRead:
    kind: SourceKind
    records: list[SourceRecord] = field(default_factory=list)
    files: list[SourceFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    # The manifest.json of a release directory, when there is one.
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def incomplete(self) -> int:
        return sum(f.incomplete for f in self.files)


def read_source(
    path: Path,
    folders: Mapping[str, str],
    mode_files: Mapping[str, str],
    auxiliary_modes: frozenset[str] = frozenset(),
) -> SourceRead:
    """Read a NaVAB folder, a release directory (triples.jsonl + manifest.json) or a .jsonl file.

    `folders` maps lower-cased nation folder names to nation codes, `mode_files` maps lower-cased
    file names to mode codes; both come from the database so new nations need no code change.
    `auxiliary_modes` are splits a nation folder may lack (German's `source`): their records
    that cannot be triples are counted and named instead of refusing the import.
    """
    if path.is_file():
        read = SourceRead(kind="jsonl")
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            _read_jsonl(path, path.name, read, set(folders.values()), set(mode_files.values()))
        else:
            read.problems.append(
                Problem(
                    path.name, None, "expected a NaVAB folder, a release directory or a .jsonl file"
                )
            )
        return _dedupe(read)
    if not path.is_dir():
        read = SourceRead(kind="navab")
        read.problems.append(Problem(str(path), None, "no such file or directory"))
        return read
    if (path / TRIPLES_FILE).is_file():
        read = SourceRead(kind="jsonl")
        read.metadata = _read_manifest(path, read)
        _read_jsonl(
            path / TRIPLES_FILE, TRIPLES_FILE, read, set(folders.values()), set(mode_files.values())
        )
        _check_manifest_checksum(read)
        return _dedupe(read)
    read = SourceRead(kind="navab")
    _read_navab(path, folders, mode_files, auxiliary_modes, read)
    return _dedupe(read)


def _dedupe(read: SourceRead) -> SourceRead:
    """Keep the first record of each uid; count the repeats against the file they came from."""
    files = {f.name: f for f in read.files}
    first: dict[str, SourceRecord] = {}
    kept: list[SourceRecord] = []
    examples: list[str] = []
    for record in read.records:
        earlier = first.get(record.uid)
        if earlier is None:
            first[record.uid] = record
            kept.append(record)
            continue
        files[record.source_file].duplicates += 1
        files[record.source_file].imported -= 1
        if len(examples) < 5:
            examples.append(
                f"{record.source_file} #{record.source_index} repeats "
                f"{earlier.source_file} #{earlier.source_index}"
            )
    if examples:
        count = len(read.records) - len(kept)
        read.notices.append(
            f"{count} duplicate record(s) (same nation, mode, question and statement) kept once, "
            f"e.g. {'; '.join(examples)}"
        )
    read.records = kept
    return read


# --- NaVAB folders ------------------------------------------------------------------------


def _read_navab(
    root: Path,
    folders: Mapping[str, str],
    mode_files: Mapping[str, str],
    auxiliary_modes: frozenset[str],
    read: SourceRead,
) -> None:
    seen: dict[str, str] = {}
    for child in sorted(root.iterdir()):
        if child.name.startswith("."):
            continue
        if not child.is_dir():
            if child.suffix.lower() == ".json":
                read.notices.append(f"{child.name}: not inside a nation folder, skipped")
            continue
        nation = folders.get(child.name.lower())
        if nation is None:
            read.notices.append(f"{child.name}/: not a NaVAB nation folder, skipped")
            continue
        if nation in seen:
            read.problems.append(
                Problem(
                    child.name, None, f"second folder for nation {nation} (also {seen[nation]})"
                )
            )
            continue
        seen[nation] = child.name
        _read_nation_folder(child, nation, mode_files, auxiliary_modes, read)
    if not seen:
        read.problems.append(
            Problem(
                root.name,
                None,
                "no NaVAB nation folders (US, UK, China, German, French) and no triples.jsonl",
            )
        )


def _read_nation_folder(
    folder: Path,
    nation: str,
    mode_files: Mapping[str, str],
    auxiliary_modes: frozenset[str],
    read: SourceRead,
) -> None:
    found: dict[str, str] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        lowered = path.name.lower()
        mode = mode_files.get(MODE_FILE_ALIASES.get(lowered, lowered))
        name = f"{folder.name}/{path.name}"
        if mode is None:
            if lowered.endswith(".json"):
                read.notices.append(f"{name}: not a NaVAB split file, skipped")
            continue
        if mode in found:
            read.problems.append(
                Problem(name, None, f"second file for mode {mode} (also {found[mode]})")
            )
            continue
        found[mode] = name
        _read_navab_file(path, name, nation, mode, mode in auxiliary_modes, read)
    missing = sorted(set(mode_files.values()) - auxiliary_modes - set(found))
    if missing:
        read.notices.append(f"{folder.name}/: no file for mode(s) {', '.join(missing)}")


def _read_navab_file(
    path: Path, name: str, nation: str, mode: str, auxiliary: bool, read: SourceRead
) -> None:
    raw = path.read_bytes()
    source = SourceFile(
        name=name, sha256=hashlib.sha256(raw).hexdigest(), bytes=len(raw), nation=nation, mode=mode
    )
    read.files.append(source)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        read.problems.append(Problem(name, None, f"not UTF-8 text (byte {exc.start})"))
        return
    except json.JSONDecodeError as exc:
        read.problems.append(
            Problem(name, None, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
        )
        return
    if not isinstance(data, list):
        read.problems.append(
            Problem(name, None, f"expected a JSON list of records, found {_type_name(data)}")
        )
        return
    source.records = len(data)
    if not data:
        read.notices.append(f"{name}: empty split (no records), so {nation}/{mode} has 0 triples")
    incomplete: list[str] = []
    for index, item in enumerate(data):
        outcome = _navab_record(item, name, index, nation, mode)
        if isinstance(outcome, SourceRecord):
            source.imported += 1
            read.records.append(outcome)
        elif outcome is None:
            source.skipped += 1
        elif auxiliary:
            source.incomplete += 1
            if len(incomplete) < INCOMPLETE_SHOWN:
                incomplete.append(f"#{index} ({'; '.join(p.reason for p in outcome)})")
        else:
            read.problems.extend(outcome)
    if source.incomplete:
        read.notices.append(
            f"{name}: {source.incomplete} of {source.records} record(s) are not complete triples "
            f"and were not imported, e.g. {', '.join(incomplete)}; "
            f"{source.imported} imported as {nation}/{mode}"
        )


def _navab_record(
    item: object, name: str, index: int, nation: str, mode: str
) -> SourceRecord | list[Problem] | None:
    """The record, every problem it has, or None when the release itself screened it out."""
    if not isinstance(item, dict):
        return [Problem(name, index, f"expected an object, found {_type_name(item)}")]
    reasons: list[tuple[str | None, str]] = []
    flag: bool | None = None
    if FLAG_KEY not in item:
        reasons.append((FLAG_KEY, f"missing key {FLAG_KEY!r}"))
    else:
        flag = screening_flag(item[FLAG_KEY])
        if flag is None:
            reasons.append(
                (
                    FLAG_KEY,
                    f"{FLAG_KEY!r} must be a boolean or the screening model's text, "
                    f"found {_type_name(item[FLAG_KEY])}",
                )
            )
    if flag is False:
        return None
    reasons += _check_strings(item, NAVAB_REQUIRED, NAVAB_OPTIONAL)
    extra = {key: value for key, value in item.items() if key not in NAVAB_KEYS}
    reasons += [(key, reason) for key in extra for reason in _json_problems(key, extra[key])]
    if not reasons:
        speaker = _text(item, "source")
        language = _text(item, "language").lower()
        question, statement = _text(item, Q_KEY), _text(item, "statement")
        flag_text = item[FLAG_KEY]
        record = SourceRecord(
            uid=make_triple_uid(nation, mode, question, statement),
            nation=nation,
            mode=mode,
            question=question,
            statement=statement,
            reverse_statement=_text(item, RS_KEY),
            speaker="" if speaker.lower() in UNKNOWN_SPEAKERS else speaker,
            full_source=_text(item, "full_source"),
            topic=_text(item, "topic"),
            language=language or detect_language(f"{statement} {question}"),
            news_excerpt=_text(item, "raw_news"),
            raw_generation=_text(item, RAW_KEY),
            filter_flag=True,
            filter_flag_text=flag_text.strip() if isinstance(flag_text, str) else "",
            extra=extra,
            source_file=name,
            source_index=index,
        )
        reasons = _too_long(record)
        if not reasons:
            return record
    return [Problem(name, index, reason, key=key) for key, reason in reasons]


def screening_flag(value: object) -> bool | None:
    """Whether the release's screening step kept the record; None when VALUE cannot say.

    The published `filter_flag` is the screening model's lower-cased output (reasoning, then
    "## yes"); the publisher kept a record when that output held both "##" and "yes", so the
    same rule reads it here. Booleans (and their usual spellings) are hand-made releases'.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if value is None:
        return False
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE_WORDS:
            return True
        if lowered in _FALSE_WORDS:
            return False
        return "##" in lowered and "yes" in lowered
    return None


def _json_problems(key: str, value: object) -> list[str]:
    """What PostgreSQL's jsonb cannot store of an unknown key's value (json.loads accepts both)."""
    found: set[str] = set()
    stack = [key, value]
    while stack:
        current = stack.pop()
        if isinstance(current, str) and "\x00" in current:
            found.add(f"{key!r} contains a NUL character")
        elif isinstance(current, float) and not math.isfinite(current):
            found.add(f"{key!r} contains NaN or Infinity")
        elif isinstance(current, dict):
            stack += [*current.keys(), *current.values()]
        elif isinstance(current, list):
            stack += current
    return sorted(found)


# --- our JSONL export ---------------------------------------------------------------------


def _read_manifest(directory: Path, read: SourceRead) -> dict[str, Any]:
    path = directory / MANIFEST_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        read.problems.append(Problem(MANIFEST_FILE, None, f"invalid JSON: {exc}"))
        return {}
    if not isinstance(data, dict):
        read.problems.append(
            Problem(MANIFEST_FILE, None, f"expected a JSON object, found {_type_name(data)}")
        )
        return {}
    return data


def _check_manifest_checksum(read: SourceRead) -> None:
    files = read.metadata.get("files")
    entry = files.get(TRIPLES_FILE) if isinstance(files, dict) else None
    expected = entry.get("sha256") if isinstance(entry, dict) else None
    if expected and read.files and read.files[0].sha256 != expected:
        read.problems.append(
            Problem(
                TRIPLES_FILE,
                None,
                f"sha256 {read.files[0].sha256} differs from {MANIFEST_FILE} ({expected}): "
                "the file is incomplete or was changed",
            )
        )


def _jsonl_lines(path: Path, source: SourceFile) -> Iterator[tuple[int, bytes]]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for line_no, line in enumerate(handle, start=1):
            digest.update(line)
            source.bytes += len(line)
            yield line_no, line
    source.sha256 = digest.hexdigest()


def _read_jsonl(
    path: Path, name: str, read: SourceRead, nations: set[str], modes: set[str]
) -> None:
    source = SourceFile(name=name)
    read.files.append(source)
    for line_no, line in _jsonl_lines(path, source):
        if not line.strip():
            continue
        source.records += 1
        outcome = _jsonl_record(line, name, line_no, nations, modes)
        if isinstance(outcome, SourceRecord):
            source.imported += 1
            read.records.append(outcome)
        else:
            read.problems.extend(outcome)


def _jsonl_record(
    line: bytes, name: str, line_no: int, nations: set[str], modes: set[str]
) -> SourceRecord | list[Problem]:
    try:
        item = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return [Problem(name, line_no, f"not UTF-8 text (byte {exc.start})", unit="line")]
    except json.JSONDecodeError as exc:
        return [Problem(name, line_no, f"invalid JSON: {exc.msg}", unit="line")]
    if not isinstance(item, dict):
        return [
            Problem(name, line_no, f"expected an object, found {_type_name(item)}", unit="line")
        ]
    reasons = _check_strings(item, JSONL_REQUIRED, JSONL_OPTIONAL)
    if not reasons:
        if item["nation"] not in nations:
            reasons.append(("nation", f"unknown nation {item['nation']!r}"))
        if item["mode"] not in modes:
            reasons.append(("mode", f"unknown mode {item['mode']!r}"))
        if not _UID.match(item["uid"]):
            reasons.append(("uid", "uid must be 1-32 letters, digits, '.', '_' or '-'"))
    if not reasons:
        question, statement = _text(item, "question"), _text(item, "statement")
        record = SourceRecord(
            uid=item["uid"],
            nation=item["nation"],
            mode=item["mode"],
            question=question,
            statement=statement,
            reverse_statement=_text(item, "reverse_statement"),
            speaker=_text(item, "speaker"),
            full_source="",
            topic=_text(item, "topic"),
            language=_text(item, "language").lower() or detect_language(f"{statement} {question}"),
            news_excerpt=_text(item, "news_excerpt"),
            raw_generation="",
            filter_flag=True,
            filter_flag_text="",
            extra={},
            source_file=name,
            source_index=line_no - 1,
        )
        reasons = _too_long(record)
        if not reasons:
            return record
    return [Problem(name, line_no, reason, unit="line", key=key) for key, reason in reasons]


# --- shared checks ------------------------------------------------------------------------


def _check_strings(
    item: dict[str, Any], required: tuple[str, ...], optional: tuple[str, ...]
) -> list[tuple[str | None, str]]:
    """(key, reason) for every key that is missing, empty or not text."""
    reasons: list[tuple[str | None, str]] = []
    for key in required:
        value = item.get(key)
        if key not in item:
            reasons.append((key, f"missing key {key!r}"))
        elif not isinstance(value, str):
            reasons.append((key, f"{key!r} must be a string, found {_type_name(value)}"))
        elif not value.strip():
            reasons.append((key, f"empty {key!r}"))
    for key in optional:
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            reasons.append((key, f"{key!r} must be a string, found {_type_name(value)}"))
    for key in (*required, *optional):
        value = item.get(key)
        # PostgreSQL text cannot hold NUL; refuse it here rather than fail mid-insert.
        if isinstance(value, str) and "\x00" in value:
            reasons.append((key, f"{key!r} contains a NUL character"))
    return reasons


def _too_long(record: SourceRecord) -> list[tuple[str | None, str]]:
    """Text is never truncated: a value over a column's limit is reported instead."""
    return [
        (
            field_name,
            f"{field_name} is {len(getattr(record, field_name))} characters long; "
            f"the database holds at most {limit}",
        )
        for field_name, limit in MAX_LENGTHS.items()
        if len(getattr(record, field_name)) > limit
    ]


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    return value.strip() if isinstance(value, str) else ""


def _type_name(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)
