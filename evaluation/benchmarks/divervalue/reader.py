"""Reading DiverValue-Bench's published layout: a folder of JSON lists.

The publisher ships `DiverValue-Bench_dataset.json` (every item) and the user-disjoint splits
`DVB-train.json`, `DVB-val.json`, `DVB-test.json`; before the rename the splits were
`mvpbench_train.json`, `mvpbench_val.json`, `mvpbench_test.json`. A file is recognised by its
records (a list of objects holding the DiverValue-Bench keys), its name only says which split it
is; a file of such records under any other name is read as items without a split. Nothing is
returned as an item when any problem is found: the caller writes all or nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from evaluation.benchmarks.divervalue.regions import region_of, unmapped

SPLITS: Final = ("train", "val", "test")
_SPLIT_NAME = re.compile(r"^(?:dvb|mvpbench)[-_](train|val|test)\.json$", re.IGNORECASE)
_ALL_NAME = re.compile(r"^(?:divervalue-bench|mvpbench)[-_]dataset\.json$", re.IGNORECASE)

# Keys every record needs, as strings; the demographics go into the OPA prompt verbatim.
TEXT_KEYS: Final = ("question", "answer_w", "answer_l")
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
    {"id", "user_id", "stated_prefs", *TEXT_KEYS, *DEMOGRAPHIC_KEYS, *OPTIONAL_TEXT_KEYS}
)
# What makes a list of objects DiverValue-Bench records.
_SIGNATURE: Final = frozenset({"id", "user_id", "question", "answer_w", "answer_l"})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the published files: which file, which record, which key."""

    file: str
    index: int | None
    key: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file if self.index is None else f"{self.file}[{self.index}]"
        return f"{where}: {self.key + ': ' if self.key else ''}{self.reason}"


@dataclass
class ReadResult:
    items: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    #: file name -> what it was read as ("all", a split, "items", or "ignored")
    files: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _role(name: str) -> str | None:
    if _ALL_NAME.match(name):
        return "all"
    match = _SPLIT_NAME.match(name)
    return match.group(1).lower() if match else None


def _is_records(data: Any) -> bool:
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(r, dict) for r in data)
        and any(r.keys() >= _SIGNATURE for r in data)
    )


def _check(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, reason) for every problem of one record."""
    found: list[tuple[str, str]] = []
    for key in ("id", "user_id"):
        value = record.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
            found.append((key, "missing or empty (a string or an integer is needed)"))
    for key in (*TEXT_KEYS, *DEMOGRAPHIC_KEYS):
        value = record.get(key)
        if key not in record:
            found.append((key, "missing"))
        elif not isinstance(value, str):
            found.append((key, f"must be a string, not {type(value).__name__}"))
        elif key in TEXT_KEYS and not value.strip():
            found.append((key, "empty"))
    for key in OPTIONAL_TEXT_KEYS:
        if record.get(key) is not None and not isinstance(record[key], str):
            found.append((key, f"must be a string, not {type(record[key]).__name__}"))
    prefs = record.get("stated_prefs")
    if prefs is not None and not isinstance(prefs, dict):
        found.append(("stated_prefs", f"must be an object, not {type(prefs).__name__}"))
    return found


def to_item(record: Mapping[str, Any]) -> dict[str, Any]:
    """A checked record in the site's fields; keys the publisher may add later are kept."""
    country = str(record["birth_country/region"])
    return {
        "uid": str(record["id"]),
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


def _content(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "split"}


def read_published(path: Path) -> ReadResult:
    """Read every JSON file of a published release folder (or one file)."""
    path = Path(path)
    result = ReadResult()
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files:
        result.problems.append(Problem(str(path), None, None, "no JSON files found"))
        return result
    # role -> (file name, items with their record index)
    read: list[tuple[str, str, list[tuple[int, dict[str, Any]]]]] = []
    for file in files:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            result.problems.append(Problem(file.name, None, None, f"not readable JSON: {exc}"))
            continue
        role = _role(file.name)
        if not _is_records(data):
            if role is not None:
                result.problems.append(
                    Problem(file.name, None, None, "not a JSON list of DiverValue-Bench records")
                )
            else:
                result.files[file.name] = "ignored"
                result.notices.append(f"{file.name}: no DiverValue-Bench records; ignored")
            continue
        if role is None:
            role = "items"
            result.notices.append(
                f"{file.name}: DiverValue-Bench records under an unknown name; read as items "
                "without a split"
            )
        result.files[file.name] = role
        items = []
        seen: dict[str, int] = {}
        for index, record in enumerate(data):
            problems = _check(record)
            for key, reason in problems:
                result.problems.append(Problem(file.name, index, key, reason))
            if problems:
                continue
            item = to_item(record)
            if item["uid"] in seen:
                result.problems.append(
                    Problem(file.name, index, "id", f"repeats the id of record {seen[item['uid']]}")
                )
                continue
            seen[item["uid"]] = index
            items.append((index, item))
        read.append((role, file.name, items))
    _merge(read, result)
    if result.problems:
        result.items = []
    return result


def _merge(
    read: list[tuple[str, str, list[tuple[int, dict[str, Any]]]]], result: ReadResult
) -> None:
    """Items from the full file and the unnamed files, split membership from the split files;
    an item in a split file that the full file lacks is added from the split file."""
    by_uid: dict[str, dict[str, Any]] = {}
    origin: dict[str, str] = {}
    for role, name, items in sorted(read, key=lambda r: (r[0] in SPLITS, r[1])):
        for index, item in items:
            uid = item["uid"]
            if uid in by_uid and _content(by_uid[uid]) != _content(item):
                result.problems.append(
                    Problem(name, index, "id", f"same id as a different record in {origin[uid]}")
                )
                continue
            if role in SPLITS:
                current = by_uid.get(uid, {}).get("split")
                if current and current != role:
                    result.problems.append(
                        Problem(name, index, "id", f"item is also in the {current} split")
                    )
                    continue
                by_uid.setdefault(uid, item)["split"] = role
            else:
                by_uid.setdefault(uid, item)
            origin.setdefault(uid, name)
    _check_user_disjoint(read, result)
    if not any(role == "all" for role, _, _ in read) and read:
        result.notices.append(
            "no DiverValue-Bench_dataset.json: the items are those of the files read"
        )
    unsplit = sum(1 for item in by_uid.values() if not item["split"])
    if unsplit and any(role in SPLITS for role, _, _ in read):
        result.notices.append(f"{unsplit} item(s) are in no split file")
    others = unmapped(item["birth_country"] for item in by_uid.values())
    if others:
        result.notices.append(
            f"countries/regions without a region (shown as Other): {', '.join(others)}"
        )
    result.items = sorted(by_uid.values(), key=lambda item: item["uid"])


def _check_user_disjoint(
    read: list[tuple[str, str, list[tuple[int, dict[str, Any]]]]], result: ReadResult
) -> None:
    first: dict[str, tuple[str, str]] = {}  # user -> (split, file)
    for role, name, items in read:
        if role not in SPLITS:
            continue
        reported: set[str] = set()
        for index, item in items:
            user = item["user_id"]
            split, file = first.setdefault(user, (role, name))
            if split != role and user not in reported:
                reported.add(user)
                result.problems.append(
                    Problem(
                        name,
                        index,
                        "user_id",
                        f"user {user} is also in the {split} split ({file}): the splits must be "
                        "user-disjoint",
                    )
                )
