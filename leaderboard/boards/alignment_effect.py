"""Base vs aligned: per slice cell and method of the benchmark, on exactly the items the aligned
model was evaluated on (never its training items), with intervals as the method's metric
declares them and a paired bootstrap on the difference.

Rows in the alignment's target (NaVAB: the target nation) show the direct effect; the other
rows show whether aligning toward one slice moved the rest (the cross-slice effect).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from evaluation.benchmarks.contract import Benchmark
from evaluation.benchmarks.intervals import metric_interval
from evaluation.stats import cell_seed
from leaderboard.boards.paired import PairedResult, paired_bootstrap
from leaderboard.evals.models import EvaluationJob, JobKind, LanguageModel
from leaderboard.evals.slices import declaration

# The item's value on each declared dimension, then the method.
Cell = tuple[str, ...]


@dataclass(frozen=True)
class EffectRow:
    #: (dimension label, value label) in declared order
    slices: tuple[tuple[str, str], ...]
    method: str
    is_target: bool
    n: int
    base: float
    base_ci: tuple[float, float]
    aligned: float
    aligned_ci: tuple[float, float]
    paired: PairedResult

    @property
    def significant(self) -> bool:
        return self.paired.p_value < 0.05

    @property
    def label(self) -> str:
        return "/".join([*(value for _, value in self.slices), self.method])


@dataclass(frozen=True)
class AlignmentEffect:
    base: LanguageModel
    aligned: LanguageModel
    base_job: EvaluationJob
    aligned_job: EvaluationJob
    #: the slice the model was aligned toward, as labels (e.g. {"Nation": "United States"})
    target: dict[str, str]
    dimensions: list[str]
    rows: list[EffectRow]

    @property
    def target_label(self) -> str:
        return ", ".join(self.target.values())


def _outcomes(job: EvaluationJob, benchmark: Benchmark) -> dict[Cell, dict[int, float]]:
    keys = [d.key for d in benchmark.slices]
    cells: dict[Cell, dict[int, float]] = defaultdict(dict)
    rows = job.samples.values_list("triple_id", "triple__slices", "method", "value")
    for item_id, slices, method, value in rows:
        cells[(*(str(slices.get(k, "")) for k in keys), method)][item_id] = float(value)
    return cells


def _target(job: EvaluationJob, benchmark: Benchmark) -> dict[str, str]:
    """The alignment's target slice: its options name a value per dimension (NaVAB's jobs
    store the nation)."""
    options = job.alignment or {}
    return {d.key: str(options[d.key]) for d in benchmark.slices if options.get(d.key)}


def alignment_effect(aligned: LanguageModel, seed: int = 0) -> AlignmentEffect | None:
    """None until both held-out evaluations (aligned model and base) have finished."""
    align_job = (
        EvaluationJob.objects.filter(kind=JobKind.ALIGN, produced_model=aligned)
        .select_related("model", "release__benchmark")
        .first()
    )
    if align_job is None:
        return None
    base = align_job.model
    aligned_job = (
        aligned.jobs.evaluations()
        .filter(status="finished", release=align_job.release)
        .order_by("-finished_at", "-id")
        .first()
    )
    if aligned_job is None:
        return None
    # The base's run on the very same held-out release (same items, same option order).
    base_job = (
        base.jobs.evaluations()
        .filter(
            status="finished",
            release=align_job.release,
            exclude_uids=aligned_job.exclude_uids,
        )
        .order_by("-finished_at", "-id")
        .first()
    )
    if base_job is None:
        return None
    benchmark = declaration(align_job.release)
    dimensions = list(benchmark.slices)
    target = _target(align_job, benchmark)
    base_cells = _outcomes(base_job, benchmark)
    rows: list[EffectRow] = []
    for cell, aligned_items in sorted(_outcomes(aligned_job, benchmark).items()):
        shared = [t for t in aligned_items if t in base_cells.get(cell, {})]
        if not shared:
            continue
        values = dict(zip((d.key for d in dimensions), cell[:-1], strict=True))
        metric = benchmark.method(cell[-1]).value_metric
        a = [base_cells[cell][t] for t in shared]
        b = [aligned_items[t] for t in shared]
        rows.append(
            EffectRow(
                slices=tuple((d.label, d.label_of(values[d.key])) for d in dimensions),
                method=benchmark.method(cell[-1]).label,
                is_target=bool(target) and all(values[k] == v for k, v in target.items()),
                n=len(shared),
                base=sum(a) / len(a),
                base_ci=metric_interval(metric, a, cell_seed(seed, "base", *cell)),
                aligned=sum(b) / len(b),
                aligned_ci=metric_interval(metric, b, cell_seed(seed, "aligned", *cell)),
                paired=paired_bootstrap(a, b, seed=seed),
            )
        )
    rows.sort(key=lambda r: (not r.is_target, r.slices, r.method))
    labels = {benchmark.slice_dimension(k).label: benchmark.slice_dimension(k).label_of(v)
              for k, v in target.items()}  # fmt: skip
    return AlignmentEffect(
        base, aligned, base_job, aligned_job, labels, [d.label for d in dimensions], rows
    )
