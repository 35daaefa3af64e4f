"""What a DiverValue-Bench evaluation returns: per-item margins and per-slice metrics."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: the slice dimension of the whole evaluated set
OVERALL = "overall"


@dataclass(frozen=True)
class ItemMargin:
    uid: str
    user_id: str
    split: str
    #: dimension key -> the item's value (birth_country, region, age, ...)
    slices: dict[str, str]
    #: summed log-likelihoods and token counts of answer_w and answer_l
    loglikelihood_w: float
    loglikelihood_l: float
    n_tokens_w: int
    n_tokens_l: int
    #: the item's OPA metrics (opa, margin, acc_<delta>)
    outcome: dict[str, float]

    @property
    def margin(self) -> float:
        return self.outcome["margin"]


@dataclass(frozen=True)
class SliceScore:
    dimension: str
    value: str
    metric: str
    mean: float
    n: int
    n_users: int
    ci_low: float
    ci_high: float
    #: n reaches the dimension's min_n: ranked; otherwise shown greyed
    ranked: bool
    method: str = "opa"


@dataclass
class DiverValueResult:
    scores: list[SliceScore]
    items: list[ItemMargin]
    card: dict[str, Any]
    #: birth countries/regions that fell into the Other region
    other_countries: list[str] = field(default_factory=list)

    def score(self, dimension: str, value: str, metric: str) -> SliceScore:
        for row in self.scores:
            if (row.dimension, row.value, row.metric) == (dimension, value, metric):
                return row
        raise KeyError(f"no score for {dimension}={value} {metric}")

    def overall(self, metric: str) -> SliceScore:
        return self.score(OVERALL, OVERALL, metric)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scores": [asdict(row) for row in self.scores],
            "card": self.card,
            "other_countries": self.other_countries,
            "n_items": len(self.items),
        }

    def write(self, out_dir: Path) -> dict[str, Path]:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {"results": out_dir / "results.json", "samples": out_dir / "samples.jsonl"}
        paths["results"].write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        with paths["samples"].open("w", encoding="utf-8") as handle:
            for item in self.items:
                handle.write(json.dumps(asdict(item), ensure_ascii=False) + "\n")
        return paths

    @classmethod
    def read(cls, out_dir: Path) -> DiverValueResult:
        out_dir = Path(out_dir)
        summary = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
        with (out_dir / "samples.jsonl").open(encoding="utf-8") as handle:
            items = [ItemMargin(**json.loads(line)) for line in handle if line.strip()]
        return cls(
            scores=[SliceScore(**row) for row in summary["scores"]],
            items=items,
            card=summary["card"],
            other_countries=summary["other_countries"],
        )


def score_rows(rows: Sequence[SliceScore], items: Sequence[Any]) -> list[Any]:
    """`evaluation.results.ScoreRow`s from slice scores: no slice for the whole evaluated set,
    one dimension for the others; `items` (with `slices` and `outcome`) give the stderr."""
    from evaluation.results import ScoreRow
    from evaluation.stats import stderr

    items_by_slice: dict[tuple[str, str], list[Any]] = {}
    for item in items:
        items_by_slice.setdefault((OVERALL, OVERALL), []).append(item)
        for key, value in item.slices.items():
            items_by_slice.setdefault((key, value), []).append(item)
    return [
        ScoreRow(
            slices={} if row.dimension == OVERALL else {row.dimension: row.value},
            method=row.method,
            metric=row.metric,
            value=row.mean,
            n=row.n,
            stderr=stderr(
                [i.outcome[row.metric] for i in items_by_slice[(row.dimension, row.value)]]
            ),
            ci_low=row.ci_low,
            ci_high=row.ci_high,
            clusters=row.n_users,
        )
        for row in rows
    ]


def to_evaluation_result(result: DiverValueResult, spec: Any) -> Any:
    """The result in the shape every benchmark's results take (`evaluation.results`), which the
    site stores: a score per metric over all items (no slice) and over each value of each
    dimension (one-dimension slices), a record per item with its margin."""
    from evaluation import repro
    from evaluation.results import EvaluationResult, ReproCard, SampleRecord

    scores = score_rows(result.scores, result.items)
    samples = [
        SampleRecord(
            uid=item.uid,
            method="opa",
            slices=dict(item.slices),
            value=item.margin,
            correct=item.margin > 0,
            chosen="answer_w" if item.margin > 0 else "answer_l",
            details={
                "user_id": item.user_id,
                "split": item.split,
                "loglikelihoods": {
                    "answer_w": item.loglikelihood_w,
                    "answer_l": item.loglikelihood_l,
                },
                "tokens": {"answer_w": item.n_tokens_w, "answer_l": item.n_tokens_l},
                "outcome": item.outcome,
            },
        )
        for item in result.items
    ]
    card = result.card
    dimensions = sorted({key for item in result.items for key in item.slices})
    export = shlex.join(
        [
            "python", "-m", "evaluation", "export-tasks", "--benchmark", "divervalue",
            str(card["release"]["path"]), "OUT_DIR/tasks",
            *(f"--slice=split={split}" for split in card["splits"]),
        ]
    )  # fmt: skip
    return EvaluationResult(
        scores=scores,
        samples=samples,
        card=ReproCard(
            model=card["model"],
            judge=None,
            release=card["release"],
            methods=["opa"],
            slices={key: sorted({item.slices[key] for item in result.items}) for key in dimensions},
            dtype=spec.dtype,
            batch_size=spec.batch_size,
            seed=card["seed"],
            device=card["device"],
            device_name=repro.device_name(card["device"]),
            max_gen_toks=0,
            limit=card["limit"],
            versions=card["versions"],
            command=card["lm_eval_command"],
            lm_eval_commands=[export, card["lm_eval_command"]],
            started_at=card["started_at"],
            duration_s=card["duration_s"],
            too_long=card.get("too_long") or {},
        ),
    )
