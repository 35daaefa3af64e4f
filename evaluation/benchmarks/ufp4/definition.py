"""UF-P-4 (Poddar et al. 2024, arXiv 2408.10075), hosted as DiverValue-Bench's out-of-domain
set: UltraFeedback prompts with a preferred and a dispreferred response under one of four
user preference types (helpfulness, honesty, instruction following, truthfulness), each with
the user's profile. DiverValue-Bench scores it by OPA with the profile before the prompt, to
see whether an alignment toward a population carries over to preferences it never trained on.

It is its own benchmark in the registry, not a release of DiverValue-Bench: its items have other
fields (no user, no demographics) and its slices are the four subsets, so it has its own
board, items and downloads, and its numbers are never averaged or ranked with DVB-test's. Its
declaration names the benchmark it serves (`out_of_domain_of`), which is how the pages label
it and how an alignment on DiverValue-Bench is also scored here.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from evaluation.benchmarks.contract import (
    BenchmarkDefinition,
    Citation,
    IntervalMethod,
    ItemField,
    Metric,
    Prompt,
    ShownPrompt,
    SliceDimension,
    Term,
)
from evaluation.benchmarks.divervalue.definition import (
    ACC_0,
    MARGIN,
    MIN_N_ENV,
    OPA_METRIC,
    min_n_from,
)
from evaluation.benchmarks.divervalue.definition import OPA as DVB_OPA
from evaluation.benchmarks.published import PublishedRead
from evaluation.benchmarks.ufp4.prompts import OPA_TEMPLATE
from evaluation.benchmarks.ufp4.reader import SUBSETS, read_published

if TYPE_CHECKING:
    from evaluation.results import EvaluationResult

ITEMS_FILE: Final = "items.jsonl"

BIBTEX: Final = """\
@misc{poddar2024personalizing,
  title        = {Personalizing Reinforcement Learning from Human Feedback with Variational
                  Preference Learning},
  author       = {Sriyash Poddar and Yanming Wan and Hamish Ivison and Abhishek Gupta and
                  Natasha Jaques},
  year         = {2024},
  eprint       = {2408.10075},
  archivePrefix = {arXiv},
  primaryClass = {cs.LG},
  url          = {https://arxiv.org/abs/2408.10075}
}"""


def _per_item(metric: Metric, description: str) -> Metric:
    """DiverValue-Bench's OPA metric over UF-P-4's items, which name no user: resampled one by
    one, not by user."""
    return dataclasses.replace(
        metric,
        interval=IntervalMethod.BOOTSTRAP,
        cluster_field=None,
        cluster_noun=Metric.cluster_noun,
        description=description,
    )


OPA = dataclasses.replace(
    DVB_OPA,
    metrics=(
        _per_item(
            OPA_METRIC,
            "Mean over delta in {0, 0.2, 2, 4, 6, 8} of the share of items whose margin "
            "(per-token log-likelihood of the chosen response minus that of the rejected one) "
            "exceeds delta, as DiverValue-Bench scores DVB-test.",
        ),
        _per_item(
            ACC_0,
            "Share of items where the chosen response is more likely per token than the "
            "rejected one.",
        ),
        _per_item(
            MARGIN,
            "Mean per-token log-likelihood of chosen minus that of rejected (nats).",
        ),
    ),
    description=(
        "The chosen and rejected responses scored as continuations of the user's profile, a "
        "newline and the prompt (no chat template), by mean log-probability per response "
        "token, as DiverValue-Bench's scripts/eval_ufp4 do."
    ),
)

SUBSET_LABELS: Final = {
    "helpfulness": "Helpfulness",
    "honesty": "Honesty",
    "instruction_following": "Instruction following",
    "truthfulness": "Truthfulness",
}


class UFP4(BenchmarkDefinition):
    slug = "ufp4"
    name = "DiverValue-Bench, out of domain (UF-P-4)"
    description = (
        "DiverValue-Bench's out-of-domain set: UltraFeedback prompts with a chosen and a "
        "rejected response under four user preference types, scored by OPA with the user's "
        "profile. Never averaged with DVB-test."
    )
    citation = Citation(
        title=(
            "Personalizing Reinforcement Learning from Human Feedback with Variational "
            "Preference Learning"
        ),
        authors="Poddar, Wan, Ivison, Gupta, Jaques",
        venue="arXiv 2408.10075",
        year=2024,
        url="https://arxiv.org/abs/2408.10075",
        bibtex=BIBTEX,
    )
    # DiverValue-Bench does not redistribute UF-P-4 and names no licence for it; the operator
    # states the source's at import.
    licence = None
    out_of_domain_of = "divervalue"
    item_fields = (
        ItemField("uid", "ID", required=True, kind="short"),
        ItemField("prompt", "Prompt", required=True, searchable=True, listed=True),
        ItemField("subset", "Subset", required=True, kind="short", listed=True),
        ItemField("profile", "User profile", searchable=True),
        ItemField("chosen", "Chosen response", required=True, searchable=True),
        ItemField("rejected", "Rejected response", required=True, searchable=True),
        ItemField("extra", "Other published keys", kind="json"),
    )
    methods = (OPA,)
    prompts = (Prompt("OPA, the responses scored as continuations", OPA_TEMPLATE),)
    glossary = (
        Term(
            "out of domain",
            "Not DiverValue-Bench's items: UF-P-4, scored the same way, shows whether a model "
            "aligned on DVB-train also prefers what other users prefer.",
            "items",
        ),
        Term("chosen", "The response the user's preference type prefers.", "items"),
        Term("rejected", "The response it does not prefer.", "items"),
        Term(
            "margin",
            "Per item: the mean log-probability per token of chosen minus that of rejected "
            "after the prompt (nats); above 0, the model prefers the chosen response.",
            "method-opa",
        ),
    )
    items_file = ITEMS_FILE
    demo_dir = Path(__file__).resolve().parent / "demo"

    def __init__(self, min_n: int) -> None:
        self.slices = (
            SliceDimension(
                "subset",
                "Subset",
                field="subset",
                min_n=min_n,
                value_labels={s: SUBSET_LABELS[s] for s in SUBSETS},
            ),
        )

    def read_published(self, path: Path) -> PublishedRead:
        return read_published(path, self.slice_of)

    def export_tasks(
        self,
        release_dir: Path,
        out_dir: Path,
        *,
        methods: Sequence[str] | None = None,
        slices: Mapping[str, Sequence[str]] | None = None,
        limit: int | None = None,
        max_gen_toks: int = 128,
        answers: Path | None = None,
    ) -> list[str]:
        from evaluation.benchmarks.ufp4.harness import check_methods, export, select_items

        check_methods(methods)
        return [export(select_items(self, release_dir, slices=slices, limit=limit), out_dir)]

    def evaluate(self, spec: Any, release_dir: Path, **options: Any) -> EvaluationResult:
        from evaluation.benchmarks.ufp4.harness import evaluate

        options.pop("max_gen_toks", None)  # OPA generates nothing
        return evaluate(self, spec, release_dir, **options)

    def item_prompts(
        self,
        item: Mapping[str, Any],
        method: str,
        parts: Mapping[str, Any],
        details: Mapping[str, Any],
    ) -> list[ShownPrompt]:
        from evaluation.benchmarks.ufp4.harness import doc

        if method != OPA.key:
            return []
        document = doc(item)
        return [
            ShownPrompt("Model", document["prompt"], (document["answer_w"], document["answer_l"]))
        ]

    def dpo_pairs(self, items: Sequence[Mapping[str, Any]]) -> list[Any]:
        # Out of domain: evaluated only, never trained on (alignment is DiverValue-Bench's).
        return []


# DiverValue-Bench's minimum slice size applies to its out-of-domain set too.
BENCHMARK: Final = UFP4(min_n_from(os.environ.get(MIN_N_ENV, "")))
