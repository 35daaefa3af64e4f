"""The board version (one row, bumped whenever what boards show changes), and the results
benchmarks' publishers reported, shown beside the boards."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from evaluation.benchmarks import get_benchmark
from evaluation.results import slice_key


class BoardVersion(models.Model):
    """Cached boards carry this number in their keys, so bumping it retires them all.

    It lives in the database, not in the cache, because the processes that change results
    (Celery workers) and the ones that serve boards (web workers) need not share a cache:
    with the default per-process memory cache, a version kept there would never reach the
    web processes.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.PositiveBigIntegerField()

    def __str__(self) -> str:
        return f"boards v{self.version}"


class ReportedResult(models.Model):
    """A figure the benchmark's publisher reported (a paper's table, a README), shown beside
    the site's rows labelled "reported by the publisher, not run here" and never ranked with
    them: the site cannot check how it was made. Staff edit them in the admin; files of them
    are imported by `manage.py import_reported` (`leaderboard.boards.reported`)."""

    benchmark = models.ForeignKey(
        "benchmark.Benchmark", on_delete=models.CASCADE, related_name="reported_results"
    )
    release_name = models.CharField(
        max_length=200,
        help_text="The data the publisher scored, as they name it (e.g. DVB-test, UF-P-4).",
    )
    model_name = models.CharField(max_length=200, help_text="The model as the publisher names it.")
    slices = models.JSONField(
        default=dict, blank=True, help_text="The slice cell: dimension -> value; {} for all items."
    )
    # The cell as one canonical string, for the unique constraint (as Score.slice_key).
    slice_key = models.CharField(max_length=255, blank=True, editable=False)
    method = models.CharField(max_length=32, help_text="A method the benchmark declares.")
    values = models.JSONField(
        help_text="Metric key -> the reported value on the metric's scale (a share as 0.7927)."
    )
    spreads = models.JSONField(
        default=dict, blank=True, help_text="Metric key -> the ± the publisher reports with it."
    )
    spread_label = models.CharField(
        max_length=100, blank=True, help_text='What the ± is, e.g. "sd over random seeds".'
    )
    n = models.PositiveIntegerField(null=True, blank=True, help_text="Items scored, if reported.")
    source_paper = models.CharField(max_length=300, blank=True)
    source_table = models.CharField(max_length=200, blank=True)
    source_commit = models.CharField(max_length=64, blank=True)
    source_url = models.URLField(blank=True)
    note = models.TextField(blank=True)
    comparable = models.BooleanField(
        default=True,
        help_text="Scored on the items the site's boards rank on; untick for another set (an "
        "out-of-domain set), which is then never set beside the site's numbers.",
    )
    site_model = models.ForeignKey(
        "evals.LanguageModel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reported_results",
        help_text="The site's entry of the same model, where the site ran it: the board shows "
        "both side by side with the difference.",
    )

    class Meta:
        ordering = ["benchmark", "method", "release_name", "model_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["benchmark", "release_name", "model_name", "slice_key", "method"],
                name="unique_reported_result",
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_name} on {self.release_name} ({self.method}), reported"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.slice_key = slice_key({str(k): str(v) for k, v in (self.slices or {}).items()})
        super().save(*args, **kwargs)

    def clean(self) -> None:
        found = reported_problems(
            self.benchmark.slug, self.method, self.values, self.spreads, self.slices
        )
        if found:
            raise ValidationError(found)


def reported_problems(
    benchmark: str, method: str, values: Any, spreads: Any, slices: Any
) -> list[str]:
    """What is wrong with a reported result, as its benchmark declares methods, metrics and
    slice dimensions (empty: nothing). A value outside a metric's declared bounds is refused:
    a percentage typed as 79.27 for a share would read as a score off the scale."""
    declared = get_benchmark(benchmark)
    keys = [m.key for m in declared.methods]
    if method not in keys:
        return [f"method {method!r} is not one of {benchmark}'s: {', '.join(keys)}"]
    found = []
    metrics = {m.key: m for m in declared.method(method).metrics}
    if not isinstance(values, dict) or not values:
        return ["values must map at least one metric key to a number"]
    for key, value in {**values, **(spreads if isinstance(spreads, dict) else {})}.items():
        metric = metrics.get(str(key))
        if metric is None:
            found.append(f"{key!r} is not a metric of {method}: {', '.join(metrics)}")
        elif not isinstance(value, int | float) or isinstance(value, bool):
            found.append(f"{key}: {value!r} is not a number")
        elif key in values and metric.clamp(float(value)) != float(value):
            found.append(
                f"{key}: {value} is outside the metric's scale ({metric.lower} to {metric.upper})"
            )
    if not isinstance(spreads, dict):
        found.append("spreads must map metric keys to numbers")
    dimensions = {d.key for d in declared.slices}
    if not isinstance(slices, dict):
        found.append("slices must map dimensions to values")
    else:
        found += [
            f"{key!r} is not a slice dimension of {benchmark}"
            for key in slices
            if key not in dimensions
        ]
    return found


class BoardSnapshot(models.Model):
    """A board view frozen by staff: every row, interval and rank range, the release's
    fingerprint, each run's harness versions and reproduction commands, stored whole at
    freezing (`leaderboard.boards.snapshots`). Later runs never change it: it is written once
    and never updated, so its permanent URL can be cited."""

    slug = models.SlugField(max_length=80, unique=True)
    benchmark = models.ForeignKey(
        "benchmark.Benchmark", on_delete=models.PROTECT, related_name="snapshots"
    )
    release = models.ForeignKey(
        "benchmark.DatasetRelease", on_delete=models.PROTECT, related_name="snapshots"
    )
    title = models.CharField(max_length=200)
    note = models.TextField(blank=True)
    #: everything the page and the JSON show, as frozen
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValidationError("A board snapshot is immutable: freeze a new one instead.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("snapshot-detail", args=[self.benchmark.slug, self.slug])


class RankCell(models.Model):
    """A board cell whose rank spread has been drawn (`leaderboard.boards.rank_replicates`):
    what its per-job replicates were drawn over, so that a job published later gets its own
    at publish time, for every cell a board has shown."""

    key = models.CharField(
        max_length=40, unique=True, help_text="sha1 of what the replicates depend on."
    )
    release = models.ForeignKey(
        "benchmark.DatasetRelease", on_delete=models.CASCADE, related_name="rank_cells"
    )
    method = models.CharField(max_length=32)
    metric = models.CharField(max_length=32)
    slices = models.JSONField(default=dict, help_text="The cell: dimension -> value.")

    def __str__(self) -> str:
        return f"rank cell {self.method}/{self.metric} {self.slices}"


class RankReplicates(models.Model):
    """One job's score in one board cell under each of the rank spread's bootstrap
    replicates, drawn once from its per-item values, with the count and mean of those values
    (checked against its stored score) and the units it holds: a cold board reads these
    instead of every ranked job's per-item values and resampling them all again."""

    cell = models.ForeignKey(
        RankCell, to_field="key", on_delete=models.CASCADE, related_name="replicates"
    )
    job = models.ForeignKey(
        "evals.EvaluationJob", on_delete=models.CASCADE, related_name="rank_replicates"
    )
    units = models.CharField(
        max_length=40, help_text="sha1 of the units (every ranked job's) the draws were over."
    )
    holds = models.CharField(max_length=40, help_text="sha1 of the units the job holds.")
    held = models.BinaryField(help_text="The cell's units the job holds a value in (packbits).")
    n = models.PositiveIntegerField(help_text="The job's per-item values in the cell.")
    mean = models.FloatField()
    replicates = models.BinaryField(help_text="Little-endian float64, one a replicate.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cell", "job"], name="unique_rank_replicates")
        ]

    def __str__(self) -> str:
        return f"job {self.job_id} replicates in {self.cell_id}"


class RankRanges(models.Model):
    """The rank ranges a board drew last (`leaderboard.boards.rank_replicates.stored_ranges`),
    by the ranked jobs and scores they came from: a board rebuilt with the same ranked jobs,
    after a change anywhere on the site made every cached board stale, reads them instead of
    every job's replicates. Every row goes when replicates are drawn again. One row a board's
    cells."""

    board = models.CharField(max_length=40, unique=True, help_text="sha1 of its cells' keys.")
    content = models.CharField(max_length=40, help_text="sha1 of its ranked jobs and scores.")
    ranges = models.BinaryField(help_text="Little-endian int32 best and worst rank a job; 0: none.")

    def __str__(self) -> str:
        return f"rank ranges of {self.board}"
