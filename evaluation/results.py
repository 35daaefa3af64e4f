"""Result types of an evaluation; every one round-trips through JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

ANSWERS_FILE = "answers.jsonl"


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


@dataclass(frozen=True)
class ScoreRow:
    nation: str
    mode: str
    method: str
    value: float
    n: int
    stderr: float
    ci_low: float
    ci_high: float
    pos_rate: float | None
    neg_rate: float | None
    pos_n: int = 0
    neg_n: int = 0


@dataclass(frozen=True)
class SampleRecord:
    uid: str
    nation: str
    mode: str
    method: str
    half: str
    statement_is_a: bool
    chosen: str
    correct: bool
    loglikelihoods: dict[str, float]
    answer: str | None = None


@dataclass(frozen=True)
class ReproCard:
    model: dict[str, Any]
    judge: dict[str, Any] | None
    release: dict[str, Any]
    methods: list[str]
    nations: list[str]
    modes: list[str]
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EvaluationResult:
    scores: list[ScoreRow]
    samples: list[SampleRecord]
    card: ReproCard
    answers: dict[str, str] = field(default_factory=dict)

    def score(self, nation: str, mode: str, method: str) -> ScoreRow:
        for row in self.scores:
            if (row.nation, row.mode, row.method) == (nation, mode, method):
                return row
        raise KeyError(f"no score for {nation}/{mode}/{method}")

    def to_dict(self) -> dict[str, Any]:
        """The summary written to results.json (per-example records go to JSON lines)."""
        return {
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
            for sample in self.samples:
                handle.write(json.dumps(asdict(sample), ensure_ascii=False) + "\n")
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
        with (out_dir / "samples.jsonl").open(encoding="utf-8") as handle:
            samples = [SampleRecord(**json.loads(line)) for line in handle if line.strip()]
        answers_path = out_dir / ANSWERS_FILE
        answers = read_answers(answers_path) if answers_path.exists() else {}
        card_fields = {f.name for f in fields(ReproCard)}
        card = ReproCard(**{k: v for k, v in summary["card"].items() if k in card_fields})
        return cls(
            scores=[ScoreRow(**row) for row in summary["scores"]],
            samples=samples,
            card=card,
            answers=answers,
        )
