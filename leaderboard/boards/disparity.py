"""Disparities as pages show them: a model's per dimension (its page), and every ranked model's
on one dimension of a release (the disparity board). The numbers are stored per job
(`leaderboard.evals.disparity`); this only labels and orders them."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django.http import Http404, QueryDict

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.contract import BenchmarkDefinition, Method, MetricKind, SliceDimension
from evaluation.benchmarks.disparity import Disparity, SliceGap
from leaderboard.boards.params import chosen_option, resolve_release
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals import disparity as stored
from leaderboard.evals.disparity import KeptDisparity
from leaderboard.evals.models import EvaluationJob, LanguageModel

#: what the disparity board can be sorted by
SORTS = ("disparity", "worst", "model")


@dataclass(frozen=True)
class LabelledGap:
    gap: SliceGap
    label: str


@dataclass
class DisparityRow:
    """A disparity as a page shows it: its slices labelled, decoded when first shown (see
    `KeptDisparity`)."""

    dimension: SliceDimension
    method: Method
    kept: KeptDisparity
    model: LanguageModel | None = None

    @classmethod
    def of(cls, benchmark: BenchmarkDefinition, kept: KeptDisparity) -> DisparityRow:
        return cls(benchmark.slice_dimension(kept.dimension), benchmark.method(kept.method), kept)

    @property
    def found(self) -> Disparity:
        return self.kept.found

    def _labelled(self, gap: SliceGap | None) -> LabelledGap | None:
        return LabelledGap(gap, self.dimension.label_of(gap.value)) if gap is not None else None

    @cached_property
    def best(self) -> LabelledGap | None:
        return self._labelled(self.found.best)

    @cached_property
    def worst(self) -> LabelledGap | None:
        return self._labelled(self.found.worst)

    @cached_property
    def lowest(self) -> list[LabelledGap]:
        return [LabelledGap(g, self.dimension.label_of(g.value)) for g in self.found.lowest]

    @cached_property
    def greyed(self) -> list[tuple[str, int]]:
        """The greyed slices (below min_n), as (label, n), by label: labelled when shown, not
        for each of a thousand models' rows of which a page shows a hundred (labelling a
        country dimension's two dozen greyed slices was most of labelling a row)."""
        label = self.dimension.label_of
        return sorted(((label(v), n) for v, n in self.found.greyed.items()), key=lambda p: p[0])

    @property
    def kind(self) -> MetricKind:
        return self.method.primary_metric.kind

    @property
    def resampled(self) -> str:
        """What the disparity's interval resamples: whole clusters (DiverValue-Bench's users)
        where the primary metric clusters its items, else single items."""
        metric = self.method.primary_metric
        return f"{metric.cluster_noun}s" if metric.cluster_field else "items"


@dataclass
class MethodDisparities:
    method: Method
    rows: list[DisparityRow] = field(default_factory=list)

    @property
    def widest(self) -> DisparityRow | None:
        """The dimension with the largest disparity: what the collapsed section says."""
        found = [row for row in self.rows if row.kept.value is not None]
        return max(found, key=lambda row: row.kept.value or 0.0) if found else None


def model_disparities(
    benchmark: BenchmarkDefinition, job: EvaluationJob | None
) -> list[MethodDisparities]:
    """The job's disparities per method (only methods it scored), each per dimension."""
    if job is None or not benchmark.slices:
        return []
    by_method: dict[str, MethodDisparities] = {}
    for kept in stored.kept_for_jobs([job])[job.pk]:
        if kept.n == 0:
            continue  # a method this job did not run
        row = DisparityRow.of(benchmark, kept)
        by_method.setdefault(row.method.key, MethodDisparities(row.method)).rows.append(row)
    return list(by_method.values())


def board_disparities(
    release: DatasetRelease,
    benchmark: BenchmarkDefinition,
    method: Method,
    dimension: SliceDimension,
    sort: str = "disparity",
) -> list[DisparityRow]:
    """Every ranked model's disparity on `dimension` under `method`, from its latest rankable
    job on the release (the board's), largest disparity first unless sorted otherwise."""
    # What the page, its CSV and the API show of a model (its names, revision and pk): the
    # rest of a thousand models' rows (their generation settings' JSON) was read for nothing.
    shown = LanguageModel.objects.on_release(release).only(
        "name", "revision", "publisher_run", "is_demo"
    )
    models = {m.latest_job_id: m for m in shown}  # type: ignore[attr-defined]
    # What `for_jobs` reads of a job (the rest, a thousand jobs' worth, is loaded only for a
    # job whose disparities are computed on this read).
    fields = ("id", "model_id", "release_id", "status", "repro_card")
    jobs = list(EvaluationJob.objects.filter(pk__any=list(models)).only(*fields))
    for job in jobs:
        # All the release's: one instance, not its manifest (100 kB on a full release)
        # loaded and decoded again for each of hundreds of jobs.
        job.release = release
    rows = []
    for job_id, kept_all in stored.kept_for_jobs(jobs, method.key, dimension.key).items():
        for kept in kept_all:
            if kept.n:
                row = DisparityRow.of(benchmark, kept)
                row.model = models[job_id]
                rows.append(row)

    def by_model(row: DisparityRow) -> tuple[str, int]:
        assert row.model is not None
        return (row.model.display_name.lower(), row.model.pk)

    rows.sort(key=by_model)
    if sort == "model":
        return rows
    if sort == "worst":
        # Lowest worst slice first (a higher-is-better metric), models without one last.
        sign = 1 if method.primary_metric.higher_is_better else -1
        return sorted(
            rows, key=lambda r: (r.worst is None, sign * (r.worst.gap.mean if r.worst else 0))
        )
    # By the stored value: no row's detail is decoded to sort (see KeptDisparity).
    return sorted(rows, key=lambda r: (r.kept.value is None, -(r.kept.value or 0.0)))


def disparity_state(
    params: QueryDict, *, staff: bool, benchmark: str
) -> tuple[DatasetRelease, BenchmarkDefinition, Method, SliceDimension, str]:
    """The release, method, dimension and sort the query string asks for (a 404 naming what
    the benchmark does not declare)."""
    release = resolve_release(params, staff=staff, benchmark=benchmark)
    declared = get_benchmark(benchmark)
    no_slices = f"{declared.name} declares no slice dimensions"
    if not declared.slices:  # said before a bad method, as it always was
        raise Http404(no_slices)
    method = chosen_option(
        params, "method", declared.methods, none=f"{declared.name} declares no methods",
        unknown="Unknown method {key}",
    )  # fmt: skip
    dimension = chosen_option(
        params, "dimension", declared.slices, none=no_slices,
        unknown="Unknown slice dimension {key}",
    )  # fmt: skip
    sort = params.get("sort", "disparity")
    return release, declared, method, dimension, sort if sort in SORTS else "disparity"
