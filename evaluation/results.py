"""Result types of an evaluation; every one round-trips through JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypedDict

ANSWERS_FILE = "answers.jsonl"
# results.json's layout: 1 had NaVAB's nation/mode and position-rate columns; 2 is generic over
# slices, metrics and sub-metrics. Raw files of old jobs stay on disk, so both are read.
RESULTS_FORMAT = 2


def read_answers(path: Path) -> dict[str, str]:
    """uid -> answer from an answers JSON-lines file written by `EvaluationResult.write`."""
    answers: dict[str, str] = {}
    with Path(path).open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            if "uid" not in record or "answer" not in record:
                raise ValueError(f"{path}:{line_no}: an answer record needs 'uid' and 'answer'")
            answers[str(record["uid"])] = str(record["answer"])
    return answers


@dataclass(frozen=True)
class ProgressEvent:
    """Sent to progress callbacks: `done` of `total` model requests for the whole run."""

    stage: str
    done: int
    total: int


def slice_key(slices: Mapping[str, str]) -> str:
    """A cell's canonical name, independent of the order of its dimensions:
    "mode=quoted|nation=us"."""
    return "|".join(f"{key}={value}" for key, value in sorted(slices.items()))


class Part(TypedDict):
    """A sub-metric's value over its subset of a cell's items (None when the subset is empty).
    `n` is None only on scores migrated from before sub-metrics whose job kept no per-example
    results to count them from."""

    value: float | None
    n: int | None


@dataclass
class Measure:
    """What a score measured on its cell: the one definition of a score's measured fields,
    which the stored `Score`, the boards' cells, the serializers and the admin read.

    Not frozen: a frozen dataclass sets each field through object.__setattr__, five times as
    long, and a cold 1,000-model board makes thousands of these."""

    value: float
    n: int
    stderr: float
    ci_low: float
    ci_high: float
    #: the method's declared sub-metrics, by key (NaVAB: "pos", "neg")
    parts: dict[str, Part] = field(default_factory=dict)
    #: the clusters (users) a cluster interval resampled; None where items are independent.
    #: One cluster has no interval at all: pages say so and boards never rank on it.
    clusters: int | None = None


@dataclass(kw_only=True)
class ScoreRow(Measure):
    """One metric of one method on one slice cell (e.g. {"nation": "us", "mode": "quoted"})."""

    slices: dict[str, str]
    method: str
    metric: str


#: what a score measured; a score's fields: its cell, then its measure (the API's order)
MEASURE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Measure))
SCORE_FIELDS: tuple[str, ...] = (
    *(f.name for f in fields(ScoreRow) if f.name not in MEASURE_FIELDS),
    *MEASURE_FIELDS,
)


@dataclass(frozen=True)
class SampleRecord:
    """One item's outcome under one method."""

    uid: str
    method: str
    slices: dict[str, str]
    #: the per-item value the metric averages: 1.0/0.0 for a correct rate, a margin for a margin
    value: float
    #: None where the metric has no notion of right and wrong
    correct: bool | None
    chosen: str
    #: the item's subset for each sub-metric selector (NaVAB: {"half": "pos"})
    parts: dict[str, str] = field(default_factory=dict)
    #: what produced the outcome: log-likelihoods, the free answer, a judge's output
    details: dict[str, Any] = field(default_factory=dict)


def _legacy_score(row: dict[str, Any]) -> ScoreRow:
    """A score of a format-1 results.json (NaVAB's nation/mode columns and position rates)."""
    return ScoreRow(
        slices={"nation": row["nation"], "mode": row["mode"]},
        method=row["method"],
        metric="acc",
        value=row["value"],
        n=row["n"],
        stderr=row["stderr"],
        ci_low=row["ci_low"],
        ci_high=row["ci_high"],
        parts={
            half: {"value": row.get(f"{half}_rate"), "n": int(row.get(f"{half}_n") or 0)}
            for half in ("pos", "neg")
        },
    )


def _legacy_sample(record: dict[str, Any]) -> SampleRecord:
    """A per-example record of a format-1 samples.jsonl."""
    details: dict[str, Any] = {"loglikelihoods": record["loglikelihoods"]}
    if record.get("answer") is not None:
        details["answer"] = record["answer"]
    return SampleRecord(
        uid=record["uid"],
        method=record["method"],
        slices={"nation": record["nation"], "mode": record["mode"]},
        value=1.0 if record["correct"] else 0.0,
        correct=bool(record["correct"]),
        chosen=record["chosen"],
        parts={"half": record["half"]},
        details=details,
    )


@dataclass(frozen=True)
class ReproCard:
    model: dict[str, Any]
    judge: dict[str, Any] | None
    release: dict[str, Any]
    methods: list[str]
    #: the slice values evaluated, per dimension (NaVAB: nation, mode)
    slices: dict[str, list[str]]
    dtype: str
    batch_size: int | str
    seed: int
    device: str
    device_name: str
    max_gen_toks: int
    limit: int | None
    versions: dict[str, str]
    command: str
    lm_eval_commands: list[str]
    started_at: str
    duration_s: float
    #: methods asked for but not run, with why (DiverValue-Bench's PAA without a judge panel, NaVAB's aj_ref without a reference judge):
    #: boards say so instead of leaving the column blank
    not_run: dict[str, str] = field(default_factory=dict)
    #: the site's reference judge of the reference-judged methods (None: none ran)
    reference_judge: dict[str, Any] | None = None
    #: per method, the items left out because the model's context cannot hold them (never
    #: cut): {"context": tokens, "n": items, "cells": [{"slices": {...}, "n": items}]}
    too_long: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EvaluationResult:
    scores: list[ScoreRow]
    samples: list[SampleRecord]
    card: ReproCard
    answers: dict[str, str] = field(default_factory=dict)

    def score(self, slices: dict[str, str], method: str, metric: str = "acc") -> ScoreRow:
        for row in self.scores:
            if (row.slices, row.method, row.metric) == (slices, method, metric):
                return row
        raise KeyError(f"no score for {slices} {method} {metric}")

    def to_dict(self) -> dict[str, Any]:
        """The summary written to results.json (per-example records go to JSON lines)."""
        return {
            "format": RESULTS_FORMAT,
            "scores": [asdict(row) for row in self.scores],
            "card": self.card.to_dict(),
            "n_samples": len(self.samples),
        }

    def write(self, out_dir: Path) -> dict[str, Path]:
        """results.json, samples.jsonl and (with AJ) answers.jsonl in `out_dir`."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {"results": out_dir / "results.json", "samples": out_dir / "samples.jsonl"}
        paths["results"].write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        with paths["samples"].open("w", encoding="utf-8") as handle:
            # A shallow dict serialises to the same JSON as asdict(sample), which deep-copies
            # every nested dict first: a quarter of the cost of writing 20,000 records.
            names = [f.name for f in fields(SampleRecord)]
            for sample in self.samples:
                record = {name: getattr(sample, name) for name in names}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        if self.answers:
            paths["answers"] = out_dir / ANSWERS_FILE
            with paths["answers"].open("w", encoding="utf-8") as handle:
                for uid, answer in self.answers.items():
                    handle.write(json.dumps({"uid": uid, "answer": answer}) + "\n")
        return paths

    @classmethod
    def read(cls, out_dir: Path) -> EvaluationResult:
        out_dir = Path(out_dir)
        summary = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
        legacy = summary.get("format", 1) < 2
        with (out_dir / "samples.jsonl").open(encoding="utf-8") as handle:
            records = [json.loads(line) for line in handle if line.strip()]
        samples = [_legacy_sample(r) if legacy else SampleRecord(**r) for r in records]
        answers_path = out_dir / ANSWERS_FILE
        answers = read_answers(answers_path) if answers_path.exists() else {}
        card_fields = {f.name for f in fields(ReproCard)}
        stored = dict(summary["card"])
        if "slices" not in stored:  # cards before benchmarks were generic named nations, modes
            stored["slices"] = {
                "nation": stored.get("nations", []),
                "mode": stored.get("modes", []),
            }
        card = ReproCard(**{k: v for k, v in stored.items() if k in card_fields})
        return cls(
            scores=[_legacy_score(r) if legacy else ScoreRow(**r) for r in summary["scores"]],
            samples=samples,
            card=card,
            answers=answers,
        )
