"""Reading UF-P-4 as DiverValue-Bench uses it: a folder of four JSON lists, one per subset
(`helpfulness.json`, `honesty.json`, `instruction_following.json`, `truthfulness.json`; the
publisher does not redistribute them and points to AlignX's `benchmark/UF-P-4`), each record
{prompt, chosen, rejected} and usually `profile`. The site's own downloads (JSONL, CSV,
Parquet) are read too.

Faithful to the publisher's scripts (`scripts/eval_ufp4/`): a record lacking one of prompt,
chosen or rejected is skipped, not refused (counted on its file and named in a notice); a
record holding them with a value the site cannot score (not text, empty, NUL) is a problem,
and then nothing is imported. Keys beyond these are kept in `extra`. Records carry no id: a
record's uid is its subset and a hash of its text, so the same record keeps its uid whatever
its position, and a record repeated in a file is kept once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

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
    read_download,
    read_json_list,
    type_name,
)

LAYOUT: Final = "uf-p-4"
SUBSETS: Final = ("helpfulness", "honesty", "instruction_following", "truthfulness")
REQUIRED: Final = ("prompt", "chosen", "rejected")
KNOWN_KEYS: Final = frozenset({*REQUIRED, "profile"})
_SITE_KEYS: Final = frozenset({"uid", "subset", "extra", "release"})
# Missing records named in a notice.
SKIPPED_SHOWN: Final = 5

SliceOf = Callable[[Mapping[str, Any]], dict[str, str]]


def subset_of(name: str) -> str | None:
    """The subset a file name holds ("Instruction-Following.json" too), or None."""
    stem = re.sub(r"[-\s]", "_", Path(name).stem.strip().lower())
    return stem if stem in SUBSETS and name.lower().endswith(".json") else None


# A uid's prefix per subset (uids hold at most 32 characters).
UID_PREFIX: Final = {
    "helpfulness": "help",
    "honesty": "honest",
    "instruction_following": "instruct",
    "truthfulness": "truth",
}


def uid_of(subset: str, fields: Mapping[str, Any]) -> str:
    text = "\x00".join(str(fields.get(k) or "") for k in ("profile", *REQUIRED))
    return f"{UID_PREFIX[subset]}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}"


def check(record: Mapping[str, Any]) -> list[KeyReason]:
    """(key, reason) for every value the site cannot store or score."""
    found = check_strings(dict(record), REQUIRED, ("profile",))
    for key, value in record.items():
        if key not in KNOWN_KEYS:
            found += [(key, reason) for reason in json_problems(key, value)]
    return found


def to_fields(subset: str, record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "subset": subset,
        "profile": record.get("profile") or "",
        "prompt": record["prompt"],
        "chosen": record["chosen"],
        "rejected": record["rejected"],
        "extra": {k: v for k, v in record.items() if k not in KNOWN_KEYS},
    }


def read_published(path: Path, slice_of: SliceOf) -> PublishedRead:
    """Read a UF-P-4 folder (or one subset file, or a download of the site's)."""
    path = Path(path)
    read = PublishedRead(layout=LAYOUT)
    if not path.exists():
        read.problems.append(Problem(str(path), None, "no such file or directory"))
        return read
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file())
        subset_files = [p for p in files if subset_of(p.name)]
        downloads = download_files(path)
        for other in files:
            if other.suffix.lower() == ".json" and not subset_of(other.name):
                read.notices.append(
                    f"{other.name}: not a UF-P-4 subset file "
                    f"({', '.join(s + '.json' for s in SUBSETS)}); ignored"
                )
    else:
        downloads = [path] if download_format(path) else []
        subset_files = [] if downloads else [path]
    if not subset_files and not downloads:
        read.problems.append(
            Problem(str(path), None, "no UF-P-4 subset files (helpfulness.json, ...) found")
        )
        return read
    if subset_files:
        found = {subset_of(p.name) for p in subset_files}
        missing = [s for s in SUBSETS if s not in found]
        if missing and path.is_dir():
            read.notices.append(f"no file for subset(s) {', '.join(missing)}")
    elif downloads:
        read.layout = str(download_format(downloads[0]))
    for file in subset_files:
        _read_subset(file, read, slice_of)
    for file in downloads:
        _read_download(file, read, slice_of)
    read.dedupe("same subset, profile, prompt and responses", {})
    if read.problems:
        read.records = []
    return read


def _read_subset(path: Path, read: PublishedRead, slice_of: SliceOf) -> None:
    subset = subset_of(path.name)
    if subset is None:
        read.problems.append(
            Problem(path.name, None, f"not a UF-P-4 subset file: one of {', '.join(SUBSETS)}")
        )
        return
    source, data = read_json_list(path, path.name, read, {"subset": subset})
    if data is None:
        return
    if not data:
        read.notices.append(f"{path.name}: an empty list; the {subset} subset has no items")
    skipped: list[str] = []
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            reason = f"a record must be an object, found {type_name(record)}"
            read.problems.append(Problem(path.name, index, reason))
            continue
        absent = [k for k in REQUIRED if k not in record]
        if absent:
            # The publisher's scripts leave such a record out; so does the site, and says so.
            source.skipped += 1
            skipped.append(f"record {index} (no {', '.join(absent)})")
            continue
        _add(read, source, subset, record, index, "record", slice_of)
    if skipped:
        shown = "; ".join(skipped[:SKIPPED_SHOWN])
        more = f" and {len(skipped) - SKIPPED_SHOWN} more" if len(skipped) > SKIPPED_SHOWN else ""
        read.notices.append(
            f"{path.name}: {len(skipped)} record(s) without prompt, chosen or rejected were "
            f"skipped, as the publisher's scripts skip them: {shown}{more}"
        )


def _add(
    read: PublishedRead,
    source: PublishedFile,
    subset: str,
    record: Mapping[str, Any],
    index: int,
    unit: Any,
    slice_of: SliceOf,
    uid: str | None = None,
) -> None:
    reasons = check(record)
    read.problems += [
        Problem(source.name, index, reason, unit=unit, key=key) for key, reason in reasons
    ]
    if reasons:
        return
    fields = to_fields(subset, record)
    record_uid = uid_of(subset, fields)
    if uid is not None and uid != record_uid:
        reason = f"uid {uid!r} is not this record's ({record_uid}): its text was changed"
        read.problems.append(Problem(source.name, index, reason, unit=unit, key="uid"))
        return
    read.add(
        source,
        PublishedRecord(
            uid=record_uid,
            fields=fields,
            slice=slice_of(fields),
            source_file=source.name,
            source_index=index,
            unit=unit,
        ),
    )


def _read_download(path: Path, read: PublishedRead, slice_of: SliceOf) -> None:
    found = read_download(path, read)
    for index, row in found.rows:
        subset = str(row.get("subset") or "")
        if subset not in SUBSETS:
            reason = f"unknown subset {subset!r}; the subsets are {', '.join(SUBSETS)}"
            read.problems.append(Problem(path.name, index, reason, unit=found.unit, key="subset"))
            continue
        extra = row.get("extra") or {}
        if isinstance(extra, str):
            try:
                extra = json.loads(extra)
            except json.JSONDecodeError:
                reason = "'extra' is not JSON text"
                read.problems.append(Problem(path.name, index, reason, found.unit, "extra"))
                continue
        if not isinstance(extra, dict):
            reason = f"'extra' must be an object, found {type_name(extra)}"
            read.problems.append(Problem(path.name, index, reason, found.unit, "extra"))
            continue
        record = {
            **{k: v for k, v in extra.items() if k not in KNOWN_KEYS},
            **{k: v for k, v in row.items() if k not in _SITE_KEYS},
        }
        uid = row.get("uid")
        _add(read, found.source, subset, record, index, found.unit, slice_of, str(uid or ""))
