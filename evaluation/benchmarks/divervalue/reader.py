"""Reading DiverValue-Bench's published layout: a folder of JSON lists.

The publisher ships `DiverValue-Bench_dataset.json` (every item) and the user-disjoint splits
`DVB-train.json`, `DVB-val.json`, `DVB-test.json`; before the rename the splits were
`mvpbench_train.json`, `mvpbench_val.json`, `mvpbench_test.json`. A file is recognised by its
records (a list of objects holding the DiverValue-Bench keys), its name only says which split it
is; a file of such records under any other name is read as items without a split. The site's
own downloads of a release (JSONL, CSV, Parquet: the site's fields, split included) are read
too, as a file or in the folder. Nothing is returned as a record when any problem is found:
the caller writes all or nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from evaluation.benchmarks.divervalue.regions import region_of, unmapped
from evaluation.benchmarks.published import (
    KeyReason,
    Problem,
    PublishedFile,
    PublishedRead,
    PublishedRecord,
    check_strings,
    download_files,
    download_format,
    json_problems,
    not_text,
    read_download,
    read_json_list,
    type_name,
)

LAYOUT: Final = "divervalue"
SPLITS: Final = ("train", "val", "test")
_SPLIT_NAME = re.compile(r"^(?:dvb|mvpbench)[-_](train|val|test)\.json$", re.IGNORECASE)
_ALL_NAME = re.compile(r"^(?:divervalue-bench|mvpbench)[-_]dataset\.json$", re.IGNORECASE)

# Keys every record needs, as strings; the demographics go into the OPA prompt verbatim.
TEXT_KEYS: Final = ("question", "answer_w", "answer_l")
ID_KEYS: Final = ("id", "user_id")
DEMOGRAPHIC_KEYS: Final = (
    "age",
    "gender",
    "employment_status",
    "education",
    "marital_status",
    "birth_country/region",
)
OPTIONAL_TEXT_KEYS: Final = (
    "preference",
    "english_proficiency",
    "self_description",
    "system_string",
)
KNOWN_KEYS: Final = frozenset(
    {*ID_KEYS, "stated_prefs", *TEXT_KEYS, *DEMOGRAPHIC_KEYS, *OPTIONAL_TEXT_KEYS}
)
# The site's fields that are no publisher keys (`to_fields`), and the downloads' release column.
_SITE_KEYS: Final = frozenset({"uid", "split", "region", "birth_country", "extra", "release"})
# What makes a list of objects DiverValue-Bench records.
_SIGNATURE: Final = frozenset({"id", "user_id", "question", "answer_w", "answer_l"})

SliceOf = Callable[[Mapping[str, Any]], dict[str, str]]


@dataclass
class _File:
    """A file of records as read: its role ("all", a split or "items") and its checked items
    (record index, uid, fields)."""

    role: str
    source: PublishedFile
    items: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)


def _role(name: str) -> str | None:
    if _ALL_NAME.match(name):
        return "all"
    match = _SPLIT_NAME.match(name)
    return match.group(1).lower() if match else None


def _is_records(data: list[Any]) -> bool:
    return (
        bool(data)
        and all(isinstance(r, dict) for r in data)
        and any(r.keys() >= _SIGNATURE for r in data)
    )


def _check(record: dict[str, Any]) -> list[KeyReason]:
    """(key, reason) for every problem of one record."""
    found: list[KeyReason] = []
    for key in ID_KEYS:
        value = record.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
            found.append((key, f"missing or empty {key!r} (a string or an integer is needed)"))
        elif isinstance(value, str) and (problem := not_text(key, value)):
            found.append((key, problem))
    # The demographics may be empty (a user who did not say) but must be there, as text.
    for key in DEMOGRAPHIC_KEYS:
        if key not in record:
            found.append((key, f"missing key {key!r}"))
        elif record[key] is None:
            found.append((key, f"{key!r} must be a string, found null"))
    found += check_strings(record, TEXT_KEYS, (*DEMOGRAPHIC_KEYS, *OPTIONAL_TEXT_KEYS))
    prefs = record.get("stated_prefs")
    if prefs is not None and not isinstance(prefs, dict):
        found.append(
            ("stated_prefs", f"'stated_prefs' must be an object, found {type_name(prefs)}")
        )
    # What is stored as jsonb: the stated preferences and the keys the site does not know.
    nested = {k: v for k, v in record.items() if k == "stated_prefs" or k not in KNOWN_KEYS}
    found += [
        (key, reason) for key, value in nested.items() for reason in json_problems(key, value)
    ]
    return found


def to_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """A checked record in the site's fields (its id is the uid); keys the publisher may add
    later are kept in `extra`."""
    country = str(record["birth_country/region"])
    return {
        "user_id": str(record["user_id"]),
        "split": "",
        "question": record["question"],
        "answer_w": record["answer_w"],
        "answer_l": record["answer_l"],
        "preference": record.get("preference") or "",
        "stated_prefs": record.get("stated_prefs") or {},
        "age": record["age"],
        "gender": record["gender"],
        "employment_status": record["employment_status"],
        "education": record["education"],
        "marital_status": record["marital_status"],
        "english_proficiency": record.get("english_proficiency") or "",
        "birth_country": country,
        "region": region_of(country),
        "self_description": record.get("self_description") or "",
        "system_string": record.get("system_string") or "",
        "extra": {k: v for k, v in record.items() if k not in KNOWN_KEYS},
    }


def _content(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k != "split"}


def read_published(path: Path, slice_of: SliceOf) -> PublishedRead:
    """Read every JSON file of a published release folder (or one file); SLICE_OF gives a
    record's value on each slice dimension (`BenchmarkDefinition.slice_of`)."""
    path = Path(path)
    read = PublishedRead(layout=LAYOUT)
    if not path.exists():
        read.problems.append(Problem(str(path), None, "no such file or directory"))
        return read
    if path.is_dir():
        paths = sorted(p for p in path.glob("*.json") if p.is_file())
        downloads = download_files(path)
    else:
        downloads = [path] if download_format(path) else []
        paths = [] if downloads else [path]
    if not paths and not downloads:
        read.problems.append(Problem(str(path), None, "no JSON, JSONL, CSV or Parquet files found"))
        return read
    if downloads and not paths:
        read.layout = str(download_format(downloads[0]))
    files = [f for p in paths if (f := _read_file(p, read)) is not None]
    files += [_read_download(p, read) for p in downloads]
    _merge(files, read, slice_of)
    if read.problems:
        read.records = []
    return read


def _read_file(path: Path, read: PublishedRead) -> _File | None:
    """The file's checked items, or None (with a problem, or a notice for a file whose name is
    not the layout's and whose content is not DiverValue-Bench records)."""
    role = _role(path.name)
    # A file under another name is not the release's until its records say so: its parse
    # errors are not the release's problems.
    target = read if role is not None else PublishedRead(layout=LAYOUT)
    split = {"split": role} if role in SPLITS else None
    source, data = read_json_list(path, path.name, target, split)
    if data is None or not _is_records(data):
        if role is None:
            read.notices.append(f"{path.name}: no DiverValue-Bench records; ignored")
        elif data is not None:
            read.problems.append(
                Problem(path.name, None, "expected a JSON list of DiverValue-Bench records")
            )
        return None
    if role is None:
        read.files.append(source)
        read.notices.append(
            f"{path.name}: DiverValue-Bench records under an unknown name; read as items "
            "without a split"
        )
    checked = _File(role or "items", source)
    seen: dict[str, int] = {}
    for index, record in enumerate(data):
        reasons = _check(record)
        read.problems += [Problem(path.name, index, reason, key=key) for key, reason in reasons]
        if reasons:
            continue
        uid = str(record["id"])
        if uid in seen:
            read.problems.append(
                Problem(path.name, index, f"id {uid!r} repeats record {seen[uid]}", key="id")
            )
            continue
        seen[uid] = index
        checked.items.append((index, uid, to_fields(record)))
    return checked


def _read_download(path: Path, read: PublishedRead) -> _File:
    """A download of the site's: each row back in the publisher's keys, checked as a published
    record is, with the split it holds."""
    found = read_download(path, read)
    checked = _File("items", found.source)
    seen: dict[str, int] = {}
    for index, row in found.rows:
        record, reasons = _publisher_record(row)
        reasons += [] if reasons else _check(record)
        read.problems += [
            Problem(path.name, index, reason, unit=found.unit, key=key) for key, reason in reasons
        ]
        if reasons:
            continue
        uid = str(record["id"])
        if uid in seen:
            reason = f"uid {uid!r} repeats row {seen[uid]}"
            read.problems.append(Problem(path.name, index, reason, unit=found.unit, key="uid"))
            continue
        seen[uid] = index
        checked.items.append((index, uid, {**to_fields(record), "split": row.get("split") or ""}))
    return checked


def _publisher_record(row: dict[str, Any]) -> tuple[dict[str, Any], list[KeyReason]]:
    """A download's row in the publisher's keys (its JSON-text values decoded), and the reasons
    it cannot be one."""
    reasons: list[KeyReason] = []
    decoded: dict[str, Any] = {}
    for key in ("stated_prefs", "extra"):
        value = row.get(key)
        try:
            decoded[key] = json.loads(value) if isinstance(value, str) and value else value
        except json.JSONDecodeError:
            reasons.append((key, f"{key!r} is not JSON text"))
    extra = decoded.get("extra") or {}
    if not isinstance(extra, dict):
        reasons.append(("extra", f"'extra' must be an object, found {type_name(extra)}"))
        extra = {}
    split = row.get("split") or ""
    if split not in ("", *SPLITS):
        reasons.append(("split", f"unknown split {split!r}; the splits are {', '.join(SPLITS)}"))
    record = {
        **{k: v for k, v in extra.items() if k not in KNOWN_KEYS},
        **{k: v for k, v in row.items() if k not in _SITE_KEYS},
        "stated_prefs": decoded.get("stated_prefs") or None,
        "id": row.get("uid"),
        "birth_country/region": row.get("birth_country"),
    }
    return record, reasons


def _merge(files: list[_File], read: PublishedRead, slice_of: SliceOf) -> None:
    """Items from the full file and the unnamed files, split membership from the split files;
    an item in a split file that the full file lacks is added from the split file. A split
    file's record that repeats the full (or an unnamed) file's is its split membership, not a
    reject; any other repeat counts as its file's duplicate."""
    by_uid: dict[str, tuple[_File, int, dict[str, Any]]] = {}
    for file in sorted(files, key=lambda f: (f.role in SPLITS, f.source.name)):
        name = file.source.name
        for index, uid, fields in file.items:
            if uid not in by_uid:
                by_uid[uid] = (file, index, fields)
                file.source.imported += 1
            else:
                origin, _, first = by_uid[uid]
                if _content(first) != _content(fields):
                    read.problems.append(
                        Problem(
                            name,
                            index,
                            f"same id as a different record in {origin.source.name}",
                            key="id",
                        )
                    )
                    continue
                if not (file.role in SPLITS and origin.role not in SPLITS):
                    file.source.duplicates += 1
            if file.role in SPLITS:
                first = by_uid[uid][2]
                if first["split"] and first["split"] != file.role:
                    read.problems.append(
                        Problem(
                            name, index, f"item is also in the {first['split']} split", key="id"
                        )
                    )
                    continue
                first["split"] = file.role
    _check_user_disjoint(files, read)
    if files and not any(f.role == "all" for f in files):
        read.notices.append(
            "no DiverValue-Bench_dataset.json: the items are those of the files read"
        )
    unsplit = sum(1 for _, _, fields in by_uid.values() if not fields["split"])
    if unsplit and any(f.role in SPLITS for f in files):
        read.notices.append(f"{unsplit} item(s) are in no split file")
    others = unmapped(fields["birth_country"] for _, _, fields in by_uid.values())
    if others:
        read.notices.append(
            f"countries/regions without a region (shown as Other): {', '.join(others)}"
        )
    read.records = [
        PublishedRecord(
            uid=uid,
            fields=fields,
            slice=slice_of(fields),
            source_file=file.source.name,
            source_index=index,
        )
        for uid, (file, index, fields) in sorted(by_uid.items())
    ]


def _check_user_disjoint(files: list[_File], read: PublishedRead) -> None:
    first: dict[str, tuple[str, str]] = {}  # user -> (split, file)
    for file in files:
        if file.role not in SPLITS:
            continue
        reported: set[str] = set()
        for index, _, fields in file.items:
            user = fields["user_id"]
            split, name = first.setdefault(user, (file.role, file.source.name))
            if split != file.role and user not in reported:
                reported.add(user)
                read.problems.append(
                    Problem(
                        file.source.name,
                        index,
                        f"user {user} is also in the {split} split ({name}): the splits must be "
                        "user-disjoint",
                        key="user_id",
                    )
                )
