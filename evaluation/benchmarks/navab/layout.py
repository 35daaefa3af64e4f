"""NaVAB's published layouts: the hub's release folders (one folder per nation, one JSON list
per mode), and our own export (a release directory with triples.jsonl and manifest.json, or a
bare .jsonl file, alone or in a folder).

The names the release uses for nations and modes come from NaVAB's declaration (`NATIONS`,
`MODES`), passed in as `ReleaseNames`. A folder holding split files under a name no declared
nation has is refused by name rather than skipped: its triples would otherwise vanish from the
import without a word. A nation's splits may sit in several folders (any name the declaration
gives it: the hub moved China's official file to `zh/`), a split never in two; a nation's
scored splits that share triples are recorded (`PublishedRead.overlaps`) for the importer.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any, Final

from evaluation.benchmarks.navab.language import detect_language
from evaluation.benchmarks.navab.records import TRIPLES_FILE, triple_uid
from evaluation.benchmarks.published import (
    KeyReason,
    Problem,
    PublishedFile,
    PublishedRead,
    PublishedRecord,
    SplitOverlap,
    Unit,
    check_manifest_checksums,
    check_strings,
    download_files,
    download_format,
    json_problems,
    jsonl_lines,
    read_json_list,
    read_manifest,
    text,
    type_name,
)
from evaluation.release import MANIFEST_FILE

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

# What a shared uid means in each layout (named in the notice about repeats).
_SAME_TRIPLE: Final = "same nation, mode, question and statement"
_SAME_UID: Final = "same uid"
# What a repeat must share with the first record of its uid, else the two conflict: the
# triple's fields, by each layout's key for them.
_TRIPLE_KEYS: Final = {"question": Q_KEY, "statement": "statement", "reverse_statement": RS_KEY}
_JSONL_TRIPLE_KEYS: Final = {key: key for key in JSONL_REQUIRED if key != "uid"}


@dataclass(frozen=True, slots=True)
class ReleaseNames:
    """How a release names nations (folders) and modes (files), lower-cased, to their codes."""

    folders: Mapping[str, str]
    mode_files: Mapping[str, str]
    #: splits a nation folder may lack (German's `source`): their records that cannot be
    #: triples are counted and named instead of refusing the import
    auxiliary_modes: frozenset[str]

    @classmethod
    def of(
        cls,
        folders: Mapping[str, str],
        mode_files: Mapping[str, str],
        auxiliary_modes: frozenset[str],
    ) -> ReleaseNames:
        """FOLDERS and MODE_FILES as declared; a nation's code names its folder too, folder and
        file names match in any case, and the hub's misspelt file names are accepted."""
        by_folder = {name.lower(): code for name, code in folders.items()}
        by_folder.update({code.lower(): code for code in folders.values()})
        by_file = {name.lower(): code for name, code in mode_files.items()}
        for alias, filename in MODE_FILE_ALIASES.items():
            if filename in by_file:
                by_file[alias] = by_file[filename]
        return cls(by_folder, by_file, auxiliary_modes)

    @property
    def nations(self) -> set[str]:
        return set(self.folders.values())

    @property
    def modes(self) -> set[str]:
        return set(self.mode_files.values())


def read_release(path: Path, names: ReleaseNames) -> PublishedRead:
    """Read a NaVAB folder, a release directory (triples.jsonl + manifest.json), a .jsonl file
    (the release page's download) or a folder holding one."""
    if path.is_file():
        read = PublishedRead(layout="jsonl")
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            _read_jsonl(path, path.name, read, names)
        else:
            read.problems.append(
                Problem(
                    path.name, None, "expected a NaVAB folder, a release directory or a .jsonl file"
                )
            )
        return read.dedupe(_SAME_UID, _JSONL_TRIPLE_KEYS)
    if not path.is_dir():
        read = PublishedRead(layout="navab")
        read.problems.append(Problem(str(path), None, "no such file or directory"))
        return read
    if (path / TRIPLES_FILE).is_file():
        read = PublishedRead(layout="jsonl")
        read.metadata = read_manifest(path / MANIFEST_FILE, read)
        _read_jsonl(path / TRIPLES_FILE, TRIPLES_FILE, read, names)
        check_manifest_checksums(read, MANIFEST_FILE)
        return read.dedupe(_SAME_UID, _JSONL_TRIPLE_KEYS)
    downloads = [p for p in download_files(path) if download_format(p) == "jsonl"]
    if downloads:
        # A folder the release page's JSONL download was saved into, under its served name.
        read = PublishedRead(layout="jsonl")
        for download in downloads:
            _read_jsonl(download, download.name, read, names)
        return read.dedupe(_SAME_UID, _JSONL_TRIPLE_KEYS)
    read = PublishedRead(layout="navab")
    _read_navab(path, names, read)
    read.dedupe(_SAME_TRIPLE, _TRIPLE_KEYS)
    _find_overlaps(read, names)
    return read


def _triple(
    *, uid: str, nation: str, mode: str, file: str, index: int, unit: Unit = "record", **values: Any
) -> PublishedRecord:
    """A triple with every field a layout can give: one shape whichever layout it came from."""
    fields: dict[str, Any] = {
        "speaker": "",
        "full_source": "",
        "topic": "",
        "news_excerpt": "",
        "raw_generation": "",
        "filter_flag": True,
        "filter_flag_text": "",
        "extra": {},
        **values,
        "nation": nation,
        "mode": mode,
    }
    question, statement = fields["question"], fields["statement"]
    fields["language"] = fields["language"] or detect_language(f"{statement} {question}")
    return PublishedRecord(
        uid=uid,
        fields=fields,
        slice={"nation": nation, "mode": mode},
        source_file=file,
        source_index=index,
        unit=unit,
    )


# --- NaVAB folders ------------------------------------------------------------------------


def _read_navab(root: Path, names: ReleaseNames, read: PublishedRead) -> None:
    folders: dict[str, list[Path]] = {}
    for child in sorted(root.iterdir()):
        if child.name.startswith("."):
            continue
        if not child.is_dir():
            if child.suffix.lower() == ".json":
                read.notices.append(f"{child.name}: not inside a nation folder, skipped")
            continue
        nation = names.folders.get(child.name.lower())
        if nation is None:
            _unknown_folder(child, names, read)
            continue
        folders.setdefault(nation, []).append(child)
    for nation, held in folders.items():
        _read_nation(held, nation, names, read)
    if not folders:
        read.problems.append(
            Problem(
                root.name,
                None,
                f"no NaVAB nation folders ({_folder_names(names)}) and no {TRIPLES_FILE}",
            )
        )


def _find_overlaps(read: PublishedRead, names: ReleaseNames) -> None:
    """A nation's scored splits holding the same triples (the hub shows China's quoted and
    official splits with exactly the same row count): recorded for the importer to report."""
    triples: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for record in read.records:
        triples[record.source_file].add(tuple(record.fields[f] for f in _TRIPLE_KEYS))
    scored = [f for f in read.files if f.slice and f.slice["mode"] not in names.auxiliary_modes]
    for first, second in combinations(scored, 2):
        if first.slice["nation"] == second.slice["nation"]:
            shared = len(triples[first.name] & triples[second.name])
            if shared:
                read.overlaps.append(SplitOverlap(first, second, shared))


def _unknown_folder(folder: Path, names: ReleaseNames, read: PublishedRead) -> None:
    """A folder holding split files is a nation's data: refuse it by name. Others (docs, the
    hub's caches) are noted and skipped."""
    if any(_mode_of(path, names) for path in folder.iterdir() if path.is_file()):
        read.problems.append(
            Problem(
                f"{folder.name}/",
                None,
                f"holds NaVAB split files but names no declared nation "
                f"(folders: {_folder_names(names)}); declare the nation in NaVAB's NATIONS "
                "(evaluation/benchmarks/navab/definition.py) or remove the folder",
            )
        )
    else:
        read.notices.append(f"{folder.name}/: not a NaVAB nation folder, skipped")


def _folder_names(names: ReleaseNames) -> str:
    return ", ".join(sorted(names.folders))


def _mode_of(path: Path, names: ReleaseNames) -> str | None:
    lowered = path.name.lower()
    return names.mode_files.get(MODE_FILE_ALIASES.get(lowered, lowered))


def _read_nation(
    folders: list[Path], nation: str, names: ReleaseNames, read: PublishedRead
) -> None:
    """A nation's split files, from one folder or several (the hub moved China's official file
    to `zh/` beside `China/`); a split found twice is refused, never merged."""
    found: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or not path.is_file():
                continue
            mode = _mode_of(path, names)
            name = _file_name(path)
            if mode is None:
                if path.name.lower().endswith(".json"):
                    read.notices.append(f"{name}: not a NaVAB split file, skipped")
                continue
            if mode in found:
                read.problems.append(
                    Problem(name, None, _split_again(nation, mode, found[mode], path))
                )
                continue
            found[mode] = path
            _read_navab_file(path, name, nation, mode, mode in names.auxiliary_modes, read)
    shown = ", ".join(f"{folder.name}/" for folder in folders)
    if len(folders) > 1:
        read.notices.append(f"{nation}: split files read from {len(folders)} folders ({shown})")
    missing = sorted(names.modes - names.auxiliary_modes - set(found))
    if missing:
        read.notices.append(f"{shown}: no file for mode(s) {', '.join(missing)}")


def _file_name(path: Path) -> str:
    """A split file as the release names it: its folder and file."""
    return f"{path.parent.name}/{path.name}"


def _split_again(nation: str, mode: str, first: Path, again: Path) -> str:
    same = first.read_bytes() == again.read_bytes()
    return (
        f"{nation}/{mode} is also in {_file_name(first)} "
        f"({'an identical file' if same else 'a different file'}): a split is read from one "
        "file, never merged from two; remove one of them"
    )


def _read_navab_file(
    path: Path, name: str, nation: str, mode: str, auxiliary: bool, read: PublishedRead
) -> None:
    source, data = read_json_list(path, name, read, {"nation": nation, "mode": mode})
    if data is None:
        return
    if not data:
        read.notices.append(f"{name}: empty split (no records), so {nation}/{mode} has 0 triples")
    incomplete: list[str] = []
    for index, item in enumerate(data):
        outcome = _navab_record(item, name, index, nation, mode)
        if isinstance(outcome, PublishedRecord):
            read.add(source, outcome)
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
) -> PublishedRecord | list[Problem] | None:
    """The record, every problem it has, or None when the release itself screened it out."""
    if not isinstance(item, dict):
        return [Problem(name, index, f"expected an object, found {type_name(item)}")]
    reasons: list[KeyReason] = []
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
                    f"found {type_name(item[FLAG_KEY])}",
                )
            )
    if flag is False:
        return None
    reasons += check_strings(item, NAVAB_REQUIRED, NAVAB_OPTIONAL)
    reasons += [(FLAG_KEY, reason) for reason in json_problems(FLAG_KEY, item.get(FLAG_KEY))]
    extra = {key: value for key, value in item.items() if key not in NAVAB_KEYS}
    reasons += [(key, reason) for key in extra for reason in json_problems(key, extra[key])]
    if reasons:
        return [Problem(name, index, reason, key=key) for key, reason in reasons]
    speaker = text(item, "source")
    question, statement = text(item, Q_KEY), text(item, "statement")
    flag_text = item[FLAG_KEY]
    return _triple(
        uid=triple_uid(nation, mode, question, statement),
        nation=nation,
        mode=mode,
        file=name,
        index=index,
        question=question,
        statement=statement,
        reverse_statement=text(item, RS_KEY),
        speaker="" if speaker.lower() in UNKNOWN_SPEAKERS else speaker,
        full_source=text(item, "full_source"),
        topic=text(item, "topic"),
        language=text(item, "language").lower(),
        news_excerpt=text(item, "raw_news"),
        raw_generation=text(item, RAW_KEY),
        filter_flag_text=flag_text.strip() if isinstance(flag_text, str) else "",
        extra=extra,
    )


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


# --- our JSONL export ---------------------------------------------------------------------


def _read_jsonl(path: Path, name: str, read: PublishedRead, names: ReleaseNames) -> None:
    source = PublishedFile(name=name)
    read.files.append(source)
    for line_no, line in jsonl_lines(path, source):
        if not line.strip():
            continue
        source.records += 1
        outcome = _jsonl_record(line, name, line_no, names)
        if isinstance(outcome, PublishedRecord):
            read.add(source, outcome)
        else:
            read.problems.extend(outcome)


def _jsonl_record(
    line: bytes, name: str, line_no: int, names: ReleaseNames
) -> PublishedRecord | list[Problem]:
    try:
        item = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return [Problem(name, line_no, f"not UTF-8 text (byte {exc.start})", unit="line")]
    except json.JSONDecodeError as exc:
        return [Problem(name, line_no, f"invalid JSON: {exc.msg}", unit="line")]
    if not isinstance(item, dict):
        return [Problem(name, line_no, f"expected an object, found {type_name(item)}", unit="line")]
    reasons = check_strings(item, JSONL_REQUIRED, JSONL_OPTIONAL)
    if not reasons:
        if item["nation"] not in names.nations:
            reasons.append(("nation", f"unknown nation {item['nation']!r}"))
        if item["mode"] not in names.modes:
            reasons.append(("mode", f"unknown mode {item['mode']!r}"))
        if not _UID.match(item["uid"]):
            reasons.append(("uid", "uid must be 1-32 letters, digits, '.', '_' or '-'"))
    if reasons:
        return [Problem(name, line_no, reason, unit="line", key=key) for key, reason in reasons]
    return _triple(
        uid=item["uid"],
        nation=item["nation"],
        mode=item["mode"],
        file=name,
        index=line_no - 1,
        unit="line",
        question=text(item, "question"),
        statement=text(item, "statement"),
        reverse_statement=text(item, "reverse_statement"),
        speaker=text(item, "speaker"),
        topic=text(item, "topic"),
        language=text(item, "language").lower(),
        news_excerpt=text(item, "news_excerpt"),
    )
