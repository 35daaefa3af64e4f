"""The publisher's own PAA run: its released per-item poly-judge records
(`data/judge/<model>_multi_value_judge_pairwise_polyjudge[_recomputed].json`, shipped zipped
in the repository) read into the site's per-item PAA verdicts, so the site scores them per
slice with its own intervals, like any PAA run, but labelled as run and judged by the publisher.

A record (the publisher's `eval_model_judge_*_pairwise_polyjudge.py`) is one item: `id`,
`model_answer`, the item's own fields, `judges` (judge name -> `score_w`, `score_l`,
`score_model`, `hard_violations_model`, `label`, `reason`, `raw`), `aggregate` and
`final_label`. The verdicts are re-decided here, not copied: per judge from its three scores
(read from its raw output by `judge_output`, the site's reader; from the parsed fields only
where a record has no raw output), over the panel by `paa.panel_verdict` with the rule of
the publisher's recompute scripts (a flagged hard violation is that judge's L). Where the
publisher read an unreadable output as three zeros (a silent TIE), that judge abstains here,
and a judge missing from a record abstains too, so the panel always has the publisher's three
seats. Every record that cannot be read, every item not in the release, every unreadable judge
output and every item whose re-decided verdict differs from the file's `final_label` is
counted in the run's report.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from evaluation.benchmarks.divervalue.judge_output import (
    JudgeReading,
    Parse,
    read_judge_fields,
    read_judge_output,
)
from evaluation.benchmarks.divervalue.paa import Verdict, judge_verdict, panel_verdict
from evaluation.benchmarks.divervalue.paa_harness import ItemVerdict, outcome, rule

#: `run_by` on the card and on each per-item result of a publisher's run
RUN_BY: Final = "publisher"
#: the publisher's panel, as its judge scripts name the judges
PUBLISHER_JUDGES: Final = ("gpt-4o", "Doubao-1.5-pro-32k", "DeepSeek-V3-Fast")
#: the keys the publisher's records hold (anything else is counted as an extra key)
RECORD_KEYS: Final = frozenset(
    {
        "id", "question", "model_answer", "answer_w", "answer_l", "profile", "preference",
        "stated_prefs", "self_description", "system_string", "judges", "aggregate",
        "final_label",
    }
)  # fmt: skip
#: the model of each released file as the publisher's README names it in its reported figures
REPORTED_NAMES: Final = {
    "claude-sonnet-4-5": "Claude-Sonnet-4.5",
    "gpt-4o": "GPT-4o",
    "mistral-medium": "Mistral-Medium-3",
    "doubao-1.5-pro-32k": "Doubao-1.5-Pro",
    "deepSeek-v3-fast": "DeepSeek-V3",
}
_FILE_NAME = re.compile(r"^(?P<model>.+?)_multi_value_judge_pairwise_polyjudge(_recomputed)?$")
#: examples of each problem kept in the report (the counts are complete)
EXAMPLES: Final = 5
#: the largest judge file read (a zip's member unpacked): the publisher's, 23,763 records
#: with three judges' raw outputs each, hold about 200 MB; a larger one is refused unread
MAX_BYTES: Final = 1 << 30


class PublisherFileError(ValueError):
    """A file that is not a list of the publisher's judge records; nothing was read."""


def model_name(path: Path) -> str:
    """The evaluated model as the publisher's file name gives it (`gpt-4o`, ...)."""
    stem = path.name.removesuffix(".zip").removesuffix(".json")
    found = _FILE_NAME.match(stem)
    if found is None:
        raise PublisherFileError(
            f"{path.name}: not a publisher judge file "
            "(<model>_multi_value_judge_pairwise_polyjudge[_recomputed].json or .zip)"
        )
    if not found["model"].isprintable():
        # A name's bytes that are not UTF-8 arrive as surrogates, which no database stores.
        raise PublisherFileError(f"{path.name!r}: the model's name is not printable UTF-8 text")
    return found["model"]


def load_records(path: Path) -> list[Any]:
    """The JSON list in PATH, or in the one .json member of the zip at PATH."""
    try:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                # A zip made on macOS also holds "__MACOSX/._<name>.json" resource forks.
                members = [
                    n
                    for n in archive.namelist()
                    if n.endswith(".json")
                    and not n.startswith("__MACOSX/")
                    and not Path(n).name.startswith("._")
                ]
                if len(members) != 1:
                    raise PublisherFileError(f"{path.name}: expected one .json file inside")
                with archive.open(members[0]) as member:
                    # Read one byte past the cap: a zip's stated sizes may lie.
                    raw = member.read(MAX_BYTES + 1)
                _check_size(path.name, len(raw))
        else:
            _check_size(path.name, path.stat().st_size)
            raw = path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
    except PublisherFileError:
        raise
    except RecursionError:
        raise PublisherFileError(f"{path.name}: JSON nested too deeply to read") from None
    # ValueError: bad JSON or UTF-8, and numbers of more digits than Python converts; the
    # zip module's own errors for encrypted members (RuntimeError, as for an unknown
    # compression), truncated and damaged data.
    except (
        OSError,
        ValueError,
        EOFError,
        RuntimeError,
        zlib.error,
        zipfile.BadZipFile,
    ) as exc:
        raise PublisherFileError(f"{path.name}: {exc}") from exc
    if not isinstance(data, list):
        raise PublisherFileError(f"{path.name}: expected a JSON list of records")
    return data


def _check_size(name: str, size: int) -> None:
    if size > MAX_BYTES:
        raise PublisherFileError(
            f"{name}: larger than {MAX_BYTES >> 20} MiB of JSON, more than a judge file holds"
        )


def _unicode(record: Mapping[str, Any]) -> bool:
    """Whether every string of RECORD is text: json.loads accepts an unpaired \\ud800-\\udfff
    escape, which no UTF-8 file or database can store."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class RunReport:
    """What the import read, and what it could not."""

    records: int = 0
    matched: int = 0
    #: records without an id, without judges, or not an object: (index, why)
    unreadable: list[tuple[int, str]] = field(default_factory=list)
    #: ids not among the release's items (first EXAMPLES) and their count
    unmatched: list[str] = field(default_factory=list)
    n_unmatched: int = 0
    duplicates: int = 0
    #: judge outputs that could not be read as three scores, per judge
    unparsable: Counter[str] = field(default_factory=Counter)
    #: judges missing from a record, per judge
    missing: Counter[str] = field(default_factory=Counter)
    extra_judges: Counter[str] = field(default_factory=Counter)
    extra_keys: Counter[str] = field(default_factory=Counter)
    #: items whose re-decided verdict differs from the file's final_label, and examples
    relabelled: int = 0
    relabelled_examples: list[str] = field(default_factory=list)
    verdicts: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "matched": self.matched,
            "unreadable_records": len(self.unreadable),
            "unreadable_examples": [f"record {i}: {why}" for i, why in self.unreadable[:EXAMPLES]],
            "unmatched": self.n_unmatched,
            "unmatched_examples": self.unmatched,
            "duplicates": self.duplicates,
            "unparsable_outputs": dict(self.unparsable),
            "missing_judges": dict(self.missing),
            "extra_judges": dict(self.extra_judges),
            "extra_keys": dict(self.extra_keys),
            "relabelled": self.relabelled,
            "relabelled_examples": self.relabelled_examples,
            "verdicts": dict(self.verdicts),
        }

    def summary(self) -> list[str]:
        lines = [
            f"{self.records} records, {self.matched} matched to the release's items",
            "verdicts: " + ", ".join(f"{v} {n}" for v, n in sorted(self.verdicts.items())),
        ]
        if self.unreadable:
            lines.append(f"{len(self.unreadable)} records unreadable, e.g. {self.unreadable[0]}")
        if self.n_unmatched:
            lines.append(f"{self.n_unmatched} ids not in the release, e.g. {self.unmatched}")
        if self.duplicates:
            lines.append(f"{self.duplicates} repeated ids (the first record kept)")
        for what, counts in (
            ("unparsable judge outputs (that judge abstains)", self.unparsable),
            ("judges missing from a record (abstain)", self.missing),
            ("judges outside the publisher's panel (kept)", self.extra_judges),
            ("record keys outside the publisher's format (ignored)", self.extra_keys),
        ):
            if counts:
                lines.append(f"{what}: {dict(counts)}")
        if self.relabelled:
            lines.append(
                f"{self.relabelled} verdicts differ from the file's final_label, "
                f"e.g. {self.relabelled_examples}"
            )
        return lines


@dataclass
class PublisherRun:
    model: str
    items: list[ItemVerdict]
    report: RunReport

    def card(self, source: str) -> dict[str, Any]:
        """What the job's card records about the publisher's PAA run."""
        return {
            "run": False,
            "run_by": RUN_BY,
            "source": source,
            "judges": [
                {"name": name, "model": name, "kind": "openai-chat"} for name in PUBLISHER_JUDGES
            ],
            "rule": {**rule(), "force_l_on_hard_violation": True, "missing_judge": "abstains"},
            "n_items": len(self.items),
            "unparsable_outputs": dict(self.report.unparsable),
            "abstained_items": self.report.verdicts.get(str(Verdict.ABSTAIN), 0),
            "import": self.report.to_dict(),
        }


def _reading(name: str, record: Any) -> tuple[JudgeReading, str]:
    """The judge's scores and its raw output. The raw output first: the publisher's parsed
    fields were derived from it, with an unreadable output stored as three zeros; the fields
    only where a record keeps no raw output."""
    if not isinstance(record, Mapping):
        return JudgeReading(Parse.UNPARSABLE, None, "the judge's record is not an object"), ""
    raw = record.get("raw")
    if isinstance(raw, str):
        return read_judge_output(raw, name), raw
    return read_judge_fields(dict(record), name), ""


def _judge_records(judges: Mapping[str, Any], report: RunReport) -> tuple[Verdict, list[Any]]:
    names = [*PUBLISHER_JUDGES, *sorted(set(judges) - set(PUBLISHER_JUDGES))]
    readings = []
    records = []
    for name in names:
        if name not in judges:
            report.missing[name] += 1
            reading, raw = JudgeReading(Parse.UNPARSABLE, None, "missing from the record"), ""
        else:
            if name not in PUBLISHER_JUDGES:
                report.extra_judges[name] += 1
            reading, raw = _reading(name, judges[name])
            if reading.scores is None:
                report.unparsable[name] += 1
        scores = reading.scores
        readings.append(scores)
        records.append(
            {
                "judge": name,
                "raw": raw,
                "parse": str(reading.parse),
                "error": reading.error,
                "scores": None
                if scores is None
                else {"model": scores.model, "w": scores.winner, "l": scores.loser},
                "hard_violation": None if scores is None else scores.hard_violation,
                "vote": str(
                    Verdict.ABSTAIN
                    if scores is None
                    else judge_verdict(scores, force_l_on_hard_violation=True)
                ),
            }
        )
    return panel_verdict(readings, force_l_on_hard_violation=True), records


def read_publisher_run(
    path: Path, items: Sequence[Mapping[str, Any]], dimensions: Sequence[str]
) -> PublisherRun:
    """The publisher's records in PATH as per-item verdicts on ITEMS (the release's items, by
    uid); DIMENSIONS are the slice keys each verdict carries."""
    model = model_name(path)
    by_uid = {str(item["uid"]): item for item in items}
    report = RunReport()
    verdicts: dict[str, ItemVerdict] = {}
    for index, record in enumerate(load_records(path)):
        report.records += 1
        if not isinstance(record, Mapping):
            report.unreadable.append((index, "not an object"))
            continue
        if not _unicode(record):
            report.unreadable.append((index, "a lone surrogate escape (\\ud800-\\udfff): not text"))
            continue
        # An id as the release reader keeps it (str of the JSON value: 0 is an id too).
        uid = "" if record.get("id") in (None, "") else str(record["id"])
        judges = record.get("judges")
        if not uid or not isinstance(judges, Mapping) or not judges:
            report.unreadable.append((index, "no id" if not uid else "no judges"))
            continue
        report.extra_keys.update(str(k) for k in record if k not in RECORD_KEYS)
        if uid not in by_uid:
            report.n_unmatched += 1
            if len(report.unmatched) < EXAMPLES:
                report.unmatched.append(uid)
            continue
        if uid in verdicts:
            report.duplicates += 1
            continue
        verdict, judge_records = _judge_records(judges, report)
        published = str(record.get("final_label") or "")
        if published != str(verdict):
            report.relabelled += 1
            if len(report.relabelled_examples) < EXAMPLES:
                report.relabelled_examples.append(f"{uid}: {published or '-'} -> {verdict}")
        item = by_uid[uid]
        unparsable = sum(r["scores"] is None for r in judge_records) / len(judge_records)
        answer = record.get("model_answer")
        verdicts[uid] = ItemVerdict(
            uid=uid,
            user_id=str(item["user_id"]),
            split=str(item.get("split") or ""),
            slices={key: str(item.get(key) or "") for key in dimensions},
            answer=answer if isinstance(answer, str) else "",
            verdict=verdict,
            judges=judge_records,
            outcome=outcome(verdict, unparsable),
        )
        report.verdicts[str(verdict)] += 1
    report.matched = len(verdicts)
    return PublisherRun(model, sorted(verdicts.values(), key=lambda v: v.uid), report)
