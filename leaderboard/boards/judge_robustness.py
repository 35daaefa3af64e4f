"""The judges page (`/<benchmark>/judges/?method=paa`): for a judged method with a panel, each
ranked model's share judged aligned by each judge and its rank under each, the judges'
agreement, and how often the panel's verdict flips when one judge is left out; computed by
`evaluation.benchmarks.judge_robustness` from the judges' per-item records, once per board
version."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.contract import BenchmarkDefinition, Method, Track
from evaluation.benchmarks.judge_robustness import (
    ABSTAIN,
    ALPHA_RESAMPLES,
    JudgeAlpha,
    JudgePanel,
    LeaveOneOut,
    aligned_share,
    krippendorff_alpha,
    leave_one_out,
    ranks,
)
from leaderboard.boards.cache import cached_value
from leaderboard.boards.params import chosen_option, resolve_release
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals import item_values, sample_details
from leaderboard.evals.agreement import item_rows
from leaderboard.evals.models import EvaluationJob, JobItemValues, LanguageModel


@dataclass
class ModelJudging:
    model: LanguageModel
    job_id: int
    n: int
    panel: float | None
    alpha: JudgeAlpha
    flips: LeaveOneOut | None
    #: judge -> its share judged aligned
    by_judge: dict[str, float | None] = field(default_factory=dict)
    panel_rank: int | None = None
    #: judge -> this model's rank under that judge alone
    rank_by_judge: dict[str, int | None] = field(default_factory=dict)

    def judge_cells(self, judges: list[str]) -> list[tuple[str, float | None, int | None]]:
        return [(j, self.by_judge.get(j), self.rank_by_judge.get(j)) for j in judges]

    @property
    def rank_moves(self) -> bool:
        """Some judge alone would rank this model elsewhere than the panel does."""
        return any(r is not None and r != self.panel_rank for r in self.rank_by_judge.values())


@dataclass
class JudgesBoard:
    method: Method
    judges: list[str]
    rows: list[ModelJudging]
    alpha: JudgeAlpha
    flips: LeaveOneOut | None


def judged_methods(benchmark: BenchmarkDefinition) -> list[Method]:
    return [m for m in benchmark.methods if m.track is Track.JUDGED]


def judges_state(
    params: QueryDict, *, staff: bool, benchmark: str
) -> tuple[DatasetRelease, BenchmarkDefinition, list[Method], Method]:
    release = resolve_release(params, staff=staff, benchmark=benchmark)
    declared = get_benchmark(benchmark)
    methods = judged_methods(declared)
    method = chosen_option(
        params,
        "method",
        methods,
        none=f"{declared.name} declares no judged method",
        unknown=f"{{key}} is not a judged method of {declared.name}",
    )
    return release, declared, methods, method


def judges_board(
    release: DatasetRelease, benchmark: BenchmarkDefinition, method: Method
) -> JudgesBoard | None:
    """The ranked models' board; None where the method has no panel of several judges."""
    panel: JudgePanel | None = benchmark.judge_panel(method.key)
    if panel is None:
        return None
    found_panel: JudgePanel = panel

    def build() -> JudgesBoard:
        models = list(LanguageModel.objects.on_release(release))
        # Only jobs with results of the method have judges' records to read: their files
        # are opened, not every ranked job's (a judges page read 750 files at 1,000 models).
        judged = set(
            JobItemValues.objects.filter(
                job_id__in=[m.latest_job_id for m in models],  # type: ignore[attr-defined]
                method=method.key,
                metric=item_values.VALUE,
            ).values_list("job_id", flat=True)
        )
        runs = [
            (model, model.latest_job_id)  # type: ignore[attr-defined]
            for model in models
            if model.latest_job_id in judged  # type: ignore[attr-defined]
        ]
        return _panel_board(release, method, found_panel, runs)

    return cached_value(f"judges:{release.pk}:{method.key}", build)


def publisher_judges_board(
    release: DatasetRelease, benchmark: BenchmarkDefinition, method: Method
) -> JudgesBoard | None:
    """The same for the publisher's runs on the release (`import_publisher_run`: the
    publisher's answers, judged by the publisher's panel): never ranked with the site's, so
    a board of their own; None without a panel or without such runs."""
    panel: JudgePanel | None = benchmark.judge_panel(method.key)
    if panel is None:
        return None
    found_panel: JudgePanel = panel

    def build() -> JudgesBoard | None:
        jobs = (
            EvaluationJob.objects.finished_evaluations()
            .filter(model__publisher_run=True, release=release)
            .select_related("model")
            .newest_first()
        )
        latest: dict[int, tuple[LanguageModel, int]] = {}
        for job in jobs:
            # The methods list is filtered here: SQLite's JSON fields have no `contains`.
            if method.key in job.methods:
                latest.setdefault(job.model_id, (job.model, job.pk))
        if not latest:
            return None
        return _panel_board(release, method, found_panel, list(latest.values()))

    return cached_value(f"judges:{release.pk}:{method.key}:publisher", build)


def _panel_board(
    release: DatasetRelease,
    method: Method,
    found_panel: JudgePanel,
    runs: list[tuple[LanguageModel, int]],
) -> JudgesBoard:
    """Each run's (model, job) judges read from its details file, with the pooled figures."""
    cluster = method.primary_metric.cluster_field
    items = item_rows(release, cluster)
    rows: list[ModelJudging] = []
    judges: list[str] = []
    all_votes: list[dict[str, str]] = []
    all_details: list[dict[str, Any]] = []
    all_clusters: list[str] = []
    for model, job_id in runs:
        details: list[dict[str, Any]] = []
        clusters: list[str] = []
        # The judges' records are in the job's details file, in item order.
        long = sample_details.read_job(job_id, method=method.key)
        records_by_item = sorted(
            ((item_id, d.get("judges")) for (item_id, _), (_, d) in long.items()),
            key=lambda row: row[0],
        )
        for item_id, records in records_by_item:
            if item_id in items and isinstance(records, list):
                details.append({"judges": records})
                # A model's users are its own clusters in the pooled alpha.
                clusters.append(f"{model.pk}/{items[item_id][2]}")
        if not details:
            continue
        votes = [found_panel.votes(d) for d in details]
        names = sorted({j for v in votes for j in v})
        judges += [j for j in names if j not in judges]
        verdicts = [found_panel.verdict(d) for d in details]
        decided = [v for v in verdicts if v != ABSTAIN]
        rows.append(
            ModelJudging(
                model=model,
                job_id=job_id,
                n=len(details),
                panel=sum(v == found_panel.aligned for v in decided) / len(decided)
                if decided
                else None,
                alpha=krippendorff_alpha(
                    votes, names, seed=job_id, clusters=clusters if cluster else None
                ),
                flips=leave_one_out(details, names, found_panel),
                by_judge={j: aligned_share(votes, j, found_panel.aligned) for j in names},
            )
        )
        all_votes += votes
        all_details += details
        all_clusters += clusters
    panel_ranks = ranks({row.model.pk: row.panel for row in rows})
    judge_ranks = {
        judge: ranks({row.model.pk: row.by_judge.get(judge) for row in rows}) for judge in judges
    }
    for row in rows:
        row.panel_rank = panel_ranks[row.model.pk]
        row.rank_by_judge = {j: judge_ranks[j][row.model.pk] for j in judges}
    rows.sort(key=lambda r: (r.panel_rank or len(rows) + 1, r.model.pk))
    return JudgesBoard(
        method=method,
        judges=judges,
        rows=rows,
        alpha=krippendorff_alpha(
            all_votes,
            judges,
            seed=release.pk,
            clusters=all_clusters if cluster else None,
            resamples=ALPHA_RESAMPLES,
        ),
        flips=leave_one_out(all_details, judges, found_panel),
    )
