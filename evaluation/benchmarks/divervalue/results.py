"""What a DiverValue-Bench evaluation returns: per-item margins and per-slice metrics."""

from __future__ import annotations

import json
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
