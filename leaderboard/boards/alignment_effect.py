"""Base vs aligned: per nation x mode x method, on exactly the items the aligned model was
evaluated on (never its training items), with CIs and a paired bootstrap on the difference.

Rows for the target nation show the direct effect; rows for the other nations show whether
aligning to one nation moved the others (the cross-nation effect).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from evaluation.stats import bootstrap_ci, cell_seed
from leaderboard.boards.paired import PairedResult, paired_bootstrap
from leaderboard.evals.models import EvaluationJob, JobKind, LanguageModel

Cell = tuple[str, str, str]  # nation, mode, method


@dataclass(frozen=True)
class EffectRow:
    nation: str
    mode: str
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


@dataclass(frozen=True)
class AlignmentEffect:
    base: LanguageModel
    aligned: LanguageModel
    base_job: EvaluationJob
    aligned_job: EvaluationJob
    target_nation: str
    rows: list[EffectRow]


def _outcomes(job: EvaluationJob) -> dict[Cell, dict[int, bool]]:
    cells: dict[Cell, dict[int, bool]] = defaultdict(dict)
    rows = job.samples.values_list(
        "triple_id", "triple__slices__nation", "triple__slices__mode", "method", "correct"
    )
    for triple_id, nation, mode, method, correct in rows:
        cells[(nation, mode, method)][triple_id] = bool(correct)
    return cells


def alignment_effect(aligned: LanguageModel, seed: int = 0) -> AlignmentEffect | None:
    """None until both held-out evaluations (aligned model and base) have finished."""
    align_job = (
        EvaluationJob.objects.filter(kind=JobKind.ALIGN, produced_model=aligned)
        .select_related("model", "release")
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
    target = str(align_job.alignment.get("nation", ""))
    base_cells = _outcomes(base_job)
    rows: list[EffectRow] = []
    for cell, aligned_items in sorted(_outcomes(aligned_job).items()):
        shared = [t for t in aligned_items if t in base_cells.get(cell, {})]
        if not shared:
            continue
        a = [base_cells[cell][t] for t in shared]
        b = [aligned_items[t] for t in shared]
        rows.append(
            EffectRow(
                nation=cell[0],
                mode=cell[1],
                method=cell[2],
                is_target=cell[0] == target,
                n=len(shared),
                base=sum(a) / len(a),
                base_ci=bootstrap_ci(a, cell_seed(seed, "base", *cell)),
                aligned=sum(b) / len(b),
                aligned_ci=bootstrap_ci(b, cell_seed(seed, "aligned", *cell)),
                paired=paired_bootstrap(a, b, seed=seed),
            )
        )
    rows.sort(key=lambda r: (not r.is_target, r.nation, r.mode, r.method))
    return AlignmentEffect(base, aligned, base_job, aligned_job, target, rows)
