"""DPO pairs from DiverValue-Bench items, as the publisher trains: the OPA prompt, `answer_w`
chosen, `answer_l` rejected, appended with no separator like OPA scores them. Training uses the
train split's users only, so an aligned model is scored on users it never saw."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from evaluation.benchmarks.divervalue.prompts import opa_prompt


@dataclass(frozen=True, slots=True)
class PreferencePair:
    uid: str
    user_id: str
    prompt: str
    chosen: str
    rejected: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def build_pairs(items: Iterable[Mapping[str, Any]]) -> list[PreferencePair]:
    return [
        PreferencePair(
            uid=str(item["uid"]),
            user_id=str(item["user_id"]),
            prompt=opa_prompt(item),
            chosen=item["answer_w"],
            rejected=item["answer_l"],
        )
        for item in items
    ]


def train_items(items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The items of the train split; an error when the release has none (training on every
    user would leave no unseen users to score on)."""
    chosen = [item for item in items if item.get("split") == "train"]
    if not chosen:
        raise ValueError("the release has no train split: DPO pairs come from train users only")
    return chosen
