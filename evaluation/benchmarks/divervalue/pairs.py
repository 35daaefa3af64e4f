"""DPO pairs from DiverValue-Bench items, as the publisher trains: the OPA prompt, `answer_w`
chosen, `answer_l` rejected, appended with no separator like OPA scores them. Training uses the
train split's users only, so an aligned model is scored on users it never saw."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from evaluation.benchmarks.contract import AlignmentPlan
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


def plan_alignment(
    training: Sequence[Mapping[str, Any]],
    evaluation: Sequence[Mapping[str, Any]],
    target: Mapping[str, str],
    slice_of: Callable[[Mapping[str, Any]], dict[str, str]],
) -> AlignmentPlan:
    """Train on the train split's users of the target group, score on every test-split user
    (the target group and the rest), as the publisher does. Refused where a trained user also
    appears among the test users: the comparison would then score answers the model saw."""
    label = ", ".join(f"{key}={value}" for key, value in target.items())

    def in_target(item: Mapping[str, Any]) -> bool:
        values = slice_of(item)
        return all(values.get(key) == value for key, value in target.items())

    train = [item for item in train_items(training) if in_target(item)]
    if not train:
        raise ValueError(f"the train split has no items of {label}: nothing to train on")
    test = [item for item in evaluation if item.get("split") == "test"]
    if not test:
        raise ValueError("the release has no test split: aligned models are scored on test users")
    trained_users = {str(item["user_id"]) for item in train}
    test_users = {str(item["user_id"]) for item in test}
    shared = sorted(trained_users & test_users)
    if shared:
        raise ValueError(
            f"{len(shared)} user(s) are in both the train and the test split "
            f"({', '.join(shared[:5])}): the comparison would score users the model trained "
            "on; fix the release's splits"
        )
    in_group = [item for item in test if in_target(item)]
    group_users = {str(item["user_id"]) for item in in_group}
    test_uids = {str(item["uid"]) for item in test}
    return AlignmentPlan(
        train=tuple(train),
        exclude_uids=tuple(
            sorted(str(i["uid"]) for i in evaluation if str(i["uid"]) not in test_uids)
        ),
        evaluate_uids=tuple(sorted(test_uids)),
        counts={label: len(train)},
        summary=(
            (
                "Trained on",
                f"{len(train)} items of {len(trained_users)} train-split users in {label}",
            ),
            (
                "Evaluated on",
                f"{len(test)} items of {len(test_users)} test-split users: {len(in_group)} items "
                f"of {len(group_users)} users in {label}, the rest outside it",
            ),
            ("Users in both", "none (the splits are user-disjoint)"),
        ),
        split={
            "target": dict(target),
            "train": {"uids": sorted(str(i["uid"]) for i in train), "users": sorted(trained_users)},
            "test": {"uids": sorted(test_uids), "users": sorted(test_users)},
        },
    )
