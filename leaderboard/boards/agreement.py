"""Method agreement on a release (`/<benchmark>/agreement/`): for each ranked model scored by
both methods of a declared pair, how far their per-item verdicts agree, overall and per slice,
flagged where the two rates differ beyond their paired interval, with the items on which they
disagree. Each job's agreement is computed once and stored (`leaderboard.evals.agreement`);
this module reads and orders the rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.agreement import Agreement
from evaluation.benchmarks.contract import BenchmarkDefinition
from leaderboard.boards.cache import cached_value
from leaderboard.boards.params import chosen_option, resolve_release
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.agreement import MethodPair, PairAgreement, for_jobs, method_pairs
from leaderboard.evals.models import EvaluationJob, LanguageModel


@dataclass
class ModelAgreement(PairAgreement):
    """A ranked model's agreement on the pair, from its board run."""

    model: LanguageModel
    job_id: int


def agreement_state(
    params: QueryDict, *, staff: bool, benchmark: str
) -> tuple[DatasetRelease, BenchmarkDefinition, list[MethodPair], MethodPair]:
    """The release and method pair the query string asks for (`?pair=mc-aj`; default the
    first declared), a 404 naming what the benchmark does not declare."""
    release = resolve_release(params, staff=staff, benchmark=benchmark)
    declared = get_benchmark(benchmark)
    pairs = method_pairs(declared)
    pair = chosen_option(
        params,
        "pair",
        pairs,
        none=f"{declared.name} declares no pair of methods scoring the same items",
        unknown="Unknown method pair {key}",
    )
    return release, declared, pairs, pair


def as_api(agreement: Agreement) -> dict[str, Any]:
    """An agreement as the API gives it (rates as proportions, intervals as [low, high])."""
    return {
        "n": agreement.n,
        "clusters": agreement.clusters,
        "same_verdict": agreement.agree,
        "kappa": agreement.kappa,
        "aligned_a": agreement.rate_a,
        "aligned_a_ci": list(agreement.ci_a),
        "aligned_b": agreement.rate_b,
        "aligned_b_ci": list(agreement.ci_b),
        "difference": agreement.diff,
        "difference_ci": list(agreement.ci_diff),
        "disagree": agreement.disagrees,
    }


def agreement_board(
    release: DatasetRelease, benchmark: BenchmarkDefinition, pair: MethodPair
) -> list[ModelAgreement]:
    """Every ranked model scored by both methods on the release, in its board run, most
    flagged slices first; built once per board version."""

    def build() -> list[ModelAgreement]:
        # Of the models on the release, only those with an agreement, and only what the page
        # and the API show of them: a thousand whole models were read for the few with
        # per-item results.
        newest = EvaluationJob.objects.newest_ranked_on(release)
        model_of = {job_id: model_id for model_id, (job_id, _) in newest.items()}
        agreements = for_jobs(model_of, pair, benchmark)
        shown = LanguageModel.objects.filter(pk__any={model_of[job] for job in agreements})
        models = {m.pk: m for m in shown.only("name", "revision", "publisher_run", "is_demo")}
        found = [
            ModelAgreement(
                stored.overall,
                stored.slices,
                stored.items,
                model=models[model_of[job_id]],
                job_id=job_id,
            )
            for job_id, stored in agreements.items()
        ]
        found.sort(key=lambda m: (-len(m.flagged), -abs(m.overall.diff), m.model.pk))
        return found

    return cached_value(f"agreement:{release.pk}:{pair.key}", build)
