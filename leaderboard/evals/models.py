"""Submitted language models, their evaluation jobs, scores and per-example results."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.contract import Track
from evaluation.local_models import public_name
from evaluation.providers.generation import Generation
from evaluation.providers.secrets import check_secret_name
from evaluation.spec import Kind, Serving, tracks_of
from leaderboard.binary_rows import fetch_rows
from leaderboard.catalog.models import DatasetRelease, Item
from leaderboard.evals.card import JobCard
from leaderboard.tracking import NUL_SUBSTITUTE as NUL_SUBSTITUTE  # stored text's NUL
from leaderboard.tracking import TrackedWork


class Method(models.TextChoices):
    MC = "mc", "Multiple choice"
    AJ = "aj", "Answer judgement"


class Precision(models.TextChoices):
    AUTO = "auto", "auto"
    FLOAT32 = "float32", "float32"
    BFLOAT16 = "bfloat16", "bfloat16"
    FLOAT16 = "float16", "float16"


class ModelType(models.TextChoices):
    BASE = "base", "Base (pretrained)"
    INSTRUCT = "instruct", "Instruction-tuned"
    MOE = "moe", "Mixture of experts"
    ALIGNED = "aligned", "Value-aligned (DPO)"


#: how a model the publisher ran and judged is labelled wherever its name is shown
PUBLISHER_RUN_LABEL = "(run and judged by the publisher, not run here)"
#: the same for the demo's invented records in the publisher's format
DEMO_PUBLISHER_RUN_LABEL = "(demo: invented records in the publisher's format, not run here)"


def model_display_name(name: str, revision: str) -> str:
    """`name@short-revision`; local fingerprints keep their "local-" prefix plus 7 digits, and
    a model submitted as a server path is shown by its directory name, not the path."""
    if name.startswith("/"):
        name = name.rstrip("/").rsplit("/", 1)[-1]
    width = 13 if revision.startswith("local-") else 7
    return f"{name}@{revision[:width]}" if revision else name


class ApiKind(models.TextChoices):
    CHAT = "chat", "Chat completions (a generated letter; no log-likelihoods)"
    COMPLETIONS = "completions", "Completions with log-probabilities (log-likelihood track)"


def validate_secret_name(value: str) -> None:
    try:
        check_secret_name(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


class Provider(models.Model):
    """An OpenAI-compatible API that staff registered; users submit models served by it.

    The key is never stored: `key_secret` names the environment variable (or `<NAME>_FILE`)
    that holds it on the workers, which alone read it.
    """

    name = models.CharField(max_length=100, unique=True)
    base_url = models.URLField(
        help_text="The endpoint requests go to, e.g. https://api.example.com/v1/chat/completions."
    )
    api_kind = models.CharField(max_length=16, choices=ApiKind.choices, default=ApiKind.CHAT)
    key_secret = models.CharField(
        "key secret name",
        max_length=64,
        blank=True,
        validators=[validate_secret_name],
        help_text="NAME of the worker-side environment variable (or NAME_FILE) holding the API "
        "key; blank: no key is sent. Never the key itself.",
    )
    concurrency = models.PositiveSmallIntegerField(
        default=1, help_text="Requests in flight, all workers together (EVAL_LIMITS_URL)."
    )
    requests_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="All workers together (shared in EVAL_LIMITS_URL's Redis); blank: no limit.",
    )
    timeout_s = models.PositiveIntegerField("request timeout (s)", default=60)
    input_price_per_m = models.FloatField("USD per 1M input tokens", default=0.0)
    output_price_per_m = models.FloatField("USD per 1M output tokens", default=0.0)
    budget_usd = models.FloatField(
        "default per-job budget (USD)",
        default=5.0,
        help_text="A job stops with its reason once its estimated cost reaches this.",
    )
    accepts_submissions = models.BooleanField(
        default=True, help_text="Signed-in users may submit models served by this provider."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            self.serving()
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    def serving(self) -> Serving:
        return Serving(
            concurrency=self.concurrency,
            requests_per_minute=self.requests_per_minute,
            timeout_s=self.timeout_s,
            input_price_per_m=self.input_price_per_m,
            output_price_per_m=self.output_price_per_m,
        )


class LanguageModelQuerySet(models.QuerySet["LanguageModel"]):
    def with_latest_job(self, release: DatasetRelease) -> LanguageModelQuerySet:
        """Each model annotated with `latest_job_id`: its latest rankable job on RELEASE (the
        run a board ranks it on; None without one), in the same query (a Subquery, as
        djangoproject.com's `with_latest()`)."""
        latest = (
            EvaluationJob.objects.rankable()
            .filter(model=OuterRef("pk"), release=release)
            .newest_first()
            .values("pk")[:1]
        )
        return self.annotate(latest_job_id=Subquery(latest))

    def on_release(self, release: DatasetRelease) -> LanguageModelQuerySet:
        """The models a board of RELEASE ranks, each with its `latest_job_id`."""
        # A Q: the stubs cannot see the annotation across methods.
        return self.with_latest_job(release).filter(Q(latest_job_id__isnull=False))

    def latest_jobs(self, release: DatasetRelease) -> JobQuerySet:
        """The latest rankable job on RELEASE of each of these models (one query)."""
        # The stubs cannot see an annotation made in another method.
        latest = self.with_latest_job(release).values("latest_job_id")  # type: ignore[misc]
        return EvaluationJob.objects.filter(pk__in=latest)


HUB_URL = "https://huggingface.co"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def hub_card_url(name: str, revision: str) -> str:
    """The hub page of model NAME at commit REVISION; "" for what is no hub id."""
    if not _HUB_ID.fullmatch(name) or not revision:
        return ""
    return f"{HUB_URL}/{name}/tree/{revision}"


class LanguageModel(models.Model):
    """A model as submitted: what to load, pinned, and how to run it."""

    name = models.CharField(
        max_length=200, help_text="Hub id (org/name), local path or served model name."
    )
    revision = models.CharField(
        max_length=64, blank=True, help_text="Commit hash the weights are pinned to."
    )
    precision = models.CharField(max_length=16, choices=Precision.choices, default=Precision.AUTO)
    model_type = models.CharField(max_length=16, choices=ModelType.choices, default=ModelType.BASE)
    params_billions = models.FloatField(
        null=True, blank=True, help_text="Parameter count in billions."
    )
    family = models.CharField(max_length=64, blank=True)
    use_chat_template = models.BooleanField(default=False)
    endpoint_url = models.URLField(blank=True, help_text="OpenAI-compatible completions endpoint.")
    provider = models.ForeignKey(
        Provider,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="models",
        help_text="The registered API serving this model (`name` is its model name there).",
    )
    # A chat model's generation settings as submitted (`Generation.to_dict()`: only what
    # differs from the defaults; {}: every default).
    generation = models.JSONField(
        default=dict,
        blank=True,
        help_text="Chat models: max_tokens, temperature, system_prompt, reasoning, "
        "reasoning_effort (evaluation.providers.generation).",
    )
    weights_path = models.CharField(
        max_length=500,
        blank=True,
        help_text="Local directory the worker loads the weights from; blank: `name` on the hub.",
    )
    base_model = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="derived_models"
    )
    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="models",
    )
    is_demo = models.BooleanField(default=False)
    # The benchmark's publisher ran and judged it (`manage.py import_publisher_run`): its
    # scores come from the publisher's released per-item records, judged by the publisher's
    # panel, so it is shown labelled as such and never ranked beside the site's runs.
    publisher_run = models.BooleanField(
        default=False,
        help_text="Run and judged by the benchmark's publisher (imported records); never ranked.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = LanguageModelQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        # A served model is named by its provider: the same name at two providers is two
        # models (each provider's own weights, prices and answers).
        constraints = [
            models.UniqueConstraint(
                fields=["name", "revision", "precision"],
                condition=Q(provider__isnull=True),
                name="unique_model_revision_precision",
            ),
            models.UniqueConstraint(
                fields=["name", "revision", "precision", "provider"],
                condition=Q(provider__isnull=False),
                name="unique_served_model_per_provider",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("model-detail", args=[self.pk])

    @property
    def display_name(self) -> str:
        return model_display_name(self.name, self.revision) + self.run_label

    @property
    def public_name(self) -> str:
        """The name pages and the API show: a local model by its folder's name (its revision
        is its content fingerprint), never the server path the workers load it from."""
        return public_name(self.name) + self.run_label

    @property
    def run_label(self) -> str:
        """Appended to every name shown, so no page shows the publisher's run unlabelled."""
        if not self.publisher_run:
            return ""
        return f" {DEMO_PUBLISHER_RUN_LABEL if self.is_demo else PUBLISHER_RUN_LABEL}"

    @property
    def card_url(self) -> str:
        """Its model card on the hub at the pinned commit ("" unless loaded from the hub)."""
        served = self.provider_id is not None or bool(self.endpoint_url)
        return "" if served or self.weights_path else hub_card_url(self.name, self.revision)

    @property
    def served_kind(self) -> Kind | None:
        """The spec kind of a served model (None: weights the worker loads)."""
        if self.provider is not None:
            return "openai-chat" if self.provider.api_kind == ApiKind.CHAT else "openai-completions"
        return "openai-completions" if self.endpoint_url else None

    @property
    def tracks(self) -> tuple[Track, ...]:
        return tracks_of(self.served_kind or "hf")

    @property
    def generation_settings(self) -> Generation | None:
        """A chat model's settings (None for other models, which take none)."""
        if self.served_kind != "openai-chat":
            return None
        return Generation.from_dict(self.generation or {})

    def clean(self) -> None:
        if self.generation and self.served_kind != "openai-chat":
            raise ValidationError(
                {"generation": "Generation settings apply to chat models of a provider only."}
            )
        try:
            Generation.from_dict(self.generation or {})
        except (TypeError, ValueError) as exc:
            raise ValidationError({"generation": str(exc)}) from exc


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (JobStatus.PENDING, JobStatus.QUEUED, JobStatus.RUNNING)
TERMINAL_STATUSES = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobKind(models.TextChoices):
    EVALUATE = "evaluate", "Evaluation"
    ALIGN = "align", "Alignment (DPO + LoRA)"


class FailureKind(models.TextChoices):
    NONE = "", "—"
    INFRA = "infra", "Infrastructure"
    MODEL = "model", "Model"
    #: the installation's (a judge missing or misconfigured): final, not the model's fault
    SETUP = "setup", "Site set-up"


#: newest first: the order in which a model's latest job is told
NEWEST_FIRST = ("-finished_at", "-id")


class JobQuerySet(models.QuerySet["EvaluationJob"]):
    def active(self) -> JobQuerySet:
        return self.filter(status__in=ACTIVE_STATUSES)

    def evaluations(self) -> JobQuerySet:
        return self.filter(kind=JobKind.EVALUATE)

    def finished_evaluations(self) -> JobQuerySet:
        return self.evaluations().filter(status=JobStatus.FINISHED)

    def newest_first(self) -> JobQuerySet:
        return self.order_by(*NEWEST_FIRST)

    def newest_by_model(self) -> dict[int, tuple[int, datetime | None]]:
        """model id -> (id, finished_at) of its newest job among these, as `newest_first`
        orders them, in one query. What a board reads of its models' latest jobs: through
        `with_latest_job` PostgreSQL looked each model's latest job up once for every place
        the query names it (three times a model, 10 ms at 1,000 models)."""
        newest: dict[int, tuple[int, datetime | None]] = {}
        ordered = self.order_by("model_id", *NEWEST_FIRST)
        for model_id, job_id, finished_at in fetch_rows(
            ordered.values_list("model_id", "pk", "finished_at")
        ):
            newest.setdefault(model_id, (job_id, finished_at))
        return newest

    def newest_ranked_on(self, release: DatasetRelease) -> dict[int, tuple[int, datetime | None]]:
        """`newest_by_model` of the rankable jobs on RELEASE: the models a board of it ranks
        (`LanguageModel.objects.on_release`), each with the job it is ranked on."""
        return self.rankable().filter(release=release).newest_by_model()

    def rankable(self) -> JobQuerySet:
        """Finished evaluations on the whole release: the only ones a board may rank.

        Aligned models are never ranked: they were fine-tuned on this benchmark's items. Nor
        are the publisher's runs: another panel judged them, on the publisher's items.
        """
        return (
            self.finished_evaluations()
            .filter(exclude_uids=[])
            .exclude(model__model_type=ModelType.ALIGNED)
            .exclude(model__publisher_run=True)
        )

    def latest_finished(self) -> EvaluationJob | None:
        """The newest finished evaluation among these: a full-release one before a held-out
        one (held-out runs are all an aligned model has, and all its base has while only its
        alignment baseline has run). Filter by model and release first."""
        finished = self.finished_evaluations().newest_first()
        return finished.filter(exclude_uids=[]).first() or finished.first()

    def stale(self, now: Any, quiet_for: timedelta, waiting_for: timedelta) -> JobQuerySet:
        """Running jobs whose worker has not beaten for QUIET_FOR, and waiting jobs no worker
        took within WAITING_FOR of being sent (or created, if never sent)."""
        return self.filter(
            Q(status=JobStatus.RUNNING, heartbeat_at__lt=now - quiet_for)
            | Q(status__in=[JobStatus.PENDING, JobStatus.QUEUED], sent_at__lt=now - waiting_for)
            | Q(
                status__in=[JobStatus.PENDING, JobStatus.QUEUED],
                sent_at__isnull=True,
                created_at__lt=now - waiting_for,
            )
        )


class EvaluationJob(TrackedWork):
    """One attempt at GPU work on a model and a release: an evaluation, or an alignment run.

    Both kinds share one lifecycle (queueing, heartbeat, retries, reaper, cancel), so an
    alignment run has exactly the guarantees an evaluation has. Re-runs are new attempts.
    """

    model = models.ForeignKey(LanguageModel, on_delete=models.CASCADE, related_name="jobs")
    release = models.ForeignKey(DatasetRelease, on_delete=models.PROTECT, related_name="jobs")
    kind = models.CharField(max_length=8, choices=JobKind.choices, default=JobKind.EVALUATE)
    # An evaluation that leaves these items out (an aligned model's training items): its
    # scores are not comparable with full-release ones, so the board never ranks it.
    exclude_uids = models.JSONField(default=list, blank=True)
    # ALIGN jobs: the target ({"target": {dimension: value}}), values narrowing the training
    # items ({"narrow": {dimension: [values]}}), pair source and DPO settings; the model they
    # produced.
    alignment = models.JSONField(default=dict, blank=True)
    produced_model = models.ForeignKey(
        LanguageModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="produced_by"
    )
    attempt = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    methods = models.JSONField(default=list)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Each enqueue gets a fresh token; a delivery carrying an older token is a stale duplicate.
    celery_task_id = models.CharField(max_length=64, blank=True)
    worker_host = models.CharField(max_length=255, blank=True)
    infra_retries = models.PositiveSmallIntegerField(default=0)
    progress_stage = models.CharField(max_length=64, blank=True)
    failure_kind = models.CharField(
        max_length=8, choices=FailureKind.choices, default="", blank=True
    )
    failure_reason = models.TextField(blank=True)
    repro_card = models.JSONField(default=dict, blank=True)
    # Served models: what the provider was asked and what it cost (evaluation.providers.Usage),
    # kept on failure too; the budget defaults to the provider's.
    usage = models.JSONField(default=dict, blank=True)
    budget_usd = models.FloatField(
        null=True, blank=True, help_text="Per-job budget (USD); blank: the provider's default."
    )
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="Last handed to the broker.")
    resends = models.PositiveSmallIntegerField(
        default=0, help_text="Times the reaper sent this attempt again (backs off each time)."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one live job per model and release: concurrent submits cannot double-queue.
            models.UniqueConstraint(
                fields=["model", "release", "kind"],
                condition=Q(status__in=["pending", "queued", "running"]),
                name="one_active_job_per_model_release",
            ),
            models.UniqueConstraint(
                fields=["model", "release", "kind", "attempt"], name="unique_job_attempt"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="job_status_created")]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.model} on {self.release}, attempt {self.attempt})"

    def get_absolute_url(self) -> str:
        return reverse("job-detail", args=[self.pk])

    @property
    def card(self) -> JobCard:
        """The reproducibility card, typed alike for every benchmark (what pages read)."""
        benchmark = get_benchmark(self.release.benchmark.slug)
        return JobCard(
            self.repro_card or {},
            job_release=self.release.version,
            limit_per=tuple(benchmark.slice_dimension(key).label for key in benchmark.limit_per),
        )

    @property
    def budget(self) -> float | None:
        if self.budget_usd is not None:
            return self.budget_usd
        provider = self.model.provider
        return provider.budget_usd if provider is not None else None

    @property
    def is_partial(self) -> bool:
        return bool(self.exclude_uids)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def progress_label(self) -> str:
        """What the progress bar says: the worker's stage while the job is active; once it
        ended, its end (a failed job stopped somewhere, it is not "loading model" any more)."""
        counts = f" ({self.progress_done} / {self.progress_total})" if self.progress_total else ""
        if self.is_active:
            return f"{self.progress_percent}% {self.progress_stage}{counts}".rstrip()
        if self.status == JobStatus.FINISHED:
            return "100% finished"
        stopped = f", stopped at {self.progress_stage}{counts}" if self.progress_stage else ""
        return f"{self.get_status_display()}{stopped}"

    @property
    def alignment_target(self) -> dict[str, str]:
        """An ALIGN job's target, dimension -> value. Jobs from before benchmarks declared
        their alignment kept NaVAB's nation at the top level of their options."""
        options = self.alignment or {}
        if "target" in options:
            return {str(k): str(v) for k, v in options["target"].items()}
        return {"nation": str(options["nation"])} if options.get("nation") else {}

    @property
    def alignment_narrowing(self) -> dict[str, list[str]]:
        """Dimension -> the values the training items are narrowed to (older jobs: NaVAB's
        "modes")."""
        options = self.alignment or {}
        if "narrow" in options:
            return {str(k): [str(v) for v in vs] for k, vs in options["narrow"].items()}
        return {"mode": [str(m) for m in options["modes"]]} if options.get("modes") else {}

    @property
    def alignment_out_of_domain(self) -> list[dict[str, Any]]:
        """The out-of-domain releases an ALIGN job queued its held-out runs on (set when it
        finished: `alignment.queue_out_of_domain`); [] for an evaluation or none."""
        found = self.alignment.get("out_of_domain") if self.kind == JobKind.ALIGN else None
        return list(found) if isinstance(found, list) else []

    @property
    def alignment_label(self) -> str:
        """An ALIGN job's target and the values its training items are narrowed to, as its
        benchmark labels them, e.g. "China (Quoted statements, Official positions)"; "" for
        an evaluation."""
        if self.kind != JobKind.ALIGN:
            return ""
        dimensions = {d.key: d for d in get_benchmark(self.release.benchmark.slug).slices}

        def label(key: str, value: str) -> str:
            return dimensions[key].label_of(value) if key in dimensions else value

        target = ", ".join(label(k, v) for k, v in self.alignment_target.items()) or "?"
        narrowed = "; ".join(
            ", ".join(label(k, v) for v in values) for k, values in self.alignment_narrowing.items()
        )
        return f"{target} ({narrowed})" if narrowed else target

    def attempts(self) -> list[EvaluationJob]:
        """Every attempt at this job, newest first: the same kind of work on the same model
        and release (an alignment toward the same target, an evaluation leaving out the
        same items), which a re-run repeats; not the model's other jobs there."""
        same = EvaluationJob.objects.filter(
            model_id=self.model_id, release_id=self.release_id, kind=self.kind
        ).order_by("-attempt", "-id")
        return [job for job in same if job._lineage == self._lineage]

    @property
    def _lineage(self) -> tuple[Any, ...]:
        return (
            sorted(self.exclude_uids),
            sorted(self.alignment_target.items()),
            sorted(self.alignment_narrowing.items()),
        )

    @property
    def held_out_exclusions(self) -> list[str]:
        """The items a finished ALIGN job's held-out evaluations leave out. Cards written
        before benchmarks declared their alignment name only the training items."""
        card = self.repro_card or {}
        if "exclude_uids" in card:
            return [str(uid) for uid in card["exclude_uids"]]
        return [str(uid) for uid in card["split"]["train"]["uids"]]

    @property
    def elapsed(self) -> timedelta | None:
        if not self.started_at:
            return None
        return (self.finished_at or timezone.now()) - self.started_at


class AlignmentJobManager(models.Manager["AlignmentJob"]):
    def get_queryset(self) -> models.QuerySet[AlignmentJob]:
        return super().get_queryset().filter(kind=JobKind.ALIGN)


class AlignmentJob(EvaluationJob):
    """The alignment runs among the jobs (same table, same lifecycle), for the admin and code
    that deals only with them."""

    objects = AlignmentJobManager()  # type: ignore[assignment,misc]

    class Meta:
        proxy = True
        verbose_name = "alignment job"


class JobEvent(models.Model):
    """The job's timeline: every status change with a human-readable message."""

    job = models.ForeignKey(EvaluationJob, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=JobStatus.choices)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.job_id} {self.status} at {self.at:%Y-%m-%d %H:%M:%S}"


class Score(models.Model):
    """One metric of one method on one slice cell of a job's release, as the benchmark declares
    them (NaVAB: {"nation": "us", "mode": "quoted"}, method mc, metric acc)."""

    # Indexed with the method and metric (Meta.indexes), which every page that reads many jobs'
    # scores names: by job alone, PostgreSQL read each job's scores of every metric and left
    # two in three (the map's sums over 750 jobs, 38 -> 24 ms). Then by cell, which a board
    # names (one of 85 a job on DiverValue-Bench: the map's board read 63,750 entries for
    # 750 scores, 8 ms). It also holds the measured fields but the parts: a read of many jobs'
    # scores without their parts (the map's sums, a lean board, another method's scores) is
    # answered from the index alone, without visiting each score's row (the map's sums at
    # 750 jobs, 34 -> 25 ms).
    job = models.ForeignKey(
        EvaluationJob, on_delete=models.CASCADE, related_name="scores", db_index=False
    )
    slices = models.JSONField(default=dict, help_text="The cell: dimension -> value.")
    # The cell as one canonical string, for the unique constraint and for grouping.
    slice_key = models.CharField(max_length=255)
    method = models.CharField(max_length=32)
    metric = models.CharField(max_length=32)
    value = models.FloatField()
    n = models.PositiveIntegerField()
    stderr = models.FloatField()
    ci_low = models.FloatField()
    ci_high = models.FloatField()
    parts = models.JSONField(
        default=dict, help_text='Declared sub-metrics: key -> {"value": float | null, "n": int}.'
    )
    clusters = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Clusters (users) the interval resampled; null where items are independent.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "slice_key", "method", "metric"], name="unique_score_cell"
            )
        ]
        indexes = [
            models.Index(
                fields=["job", "method", "metric", "slice_key"],
                include=["value", "n", "stderr", "ci_low", "ci_high", "clusters"],
                name="score_job_method_metric",
            )
        ]

    def __str__(self) -> str:
        return f"job {self.job_id} {self.slice_key} {self.method}/{self.metric}: {self.value:.3f}"

    @property
    def one_cluster(self) -> bool:
        """A cluster interval over a single cluster (one user): no interval, never ranked."""
        return self.clusters == 1


class SampleResult(models.Model):
    """One item's outcome under one method (the item's slices are the item's own).

    A row holds only what pages filter, sort and count on, in an order that packs tightly on
    PostgreSQL (the 8-byte columns first): tens of millions of rows at 200 models. The long
    part, `parts` and `details`, lives in the job's file (`leaderboard.evals.sample_details`);
    pages read it for the rows they show (`sample_details.attach`).

    The key is (job, item, method), what identifies a result anyway: a surrogate id would cost
    8 bytes a row and an index of its own (~30 of the ~165 bytes a row took on PostgreSQL)."""

    pk = models.CompositePrimaryKey("job", "item", "method")
    # Not indexed alone: the primary key starts with the job.
    job = models.ForeignKey(
        EvaluationJob, on_delete=models.CASCADE, related_name="samples", db_index=False
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    value = models.FloatField(help_text="The per-item value the method's metric averages.")
    correct = models.BooleanField(null=True, help_text="None where the metric has no right answer.")
    method = models.CharField(max_length=32)
    chosen = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["job_id", "item_id", "method"]  # the key's order: no join, no sort

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Given to the constructor when a result is stored, read back by `keep_long`/`attach`.
        self._long: tuple[dict[str, Any], dict[str, Any]] | None = None
        super().__init__(*args, **kwargs)

    def __str__(self) -> str:
        return f"job {self.job_id} item {self.item_id} {self.method}: {self.chosen}"

    @classmethod
    def with_long(
        cls, parts: dict[str, Any], details: dict[str, Any], **fields: Any
    ) -> SampleResult:
        """A result to store (`sample_details.store`) with its long part."""
        sample = cls(**fields)
        sample.keep_long(parts, details)
        return sample

    @classmethod
    def store(cls, job_id: int, samples: list[SampleResult]) -> None:
        """Store a job's results: the long part in its file first (a file whose rows never
        landed is overwritten by the next run and read by nothing), then the rows and their
        values packed for rank spreads."""
        from leaderboard.evals import item_values, sample_details

        sample_details.write_job(
            job_id, ((s.item_id, s.method, s.parts, s.details) for s in samples)
        )
        # In the key's order, so that the key's index fills its pages as it grows.
        in_order = sorted(samples, key=lambda s: (s.item_id, s.method))
        SampleResult.objects.bulk_create(in_order, batch_size=2000)
        # Packed in the rows' stored order, the order the rank spread meets units in.
        packed = item_values.pack((s.item_id, s.method, s.value, s.details) for s in in_order)
        JobItemValues.objects.filter(job_id=job_id).delete()
        JobItemValues.objects.bulk_create(
            JobItemValues(job_id=job_id, method=method, metric=metric, items=ids, values=values)
            for (method, metric), (ids, values) in packed.items()
        )

    def keep_long(self, parts: dict[str, Any], details: dict[str, Any]) -> None:
        self._long = (parts, details)

    def _read_long(self) -> tuple[dict[str, Any], dict[str, Any]]:
        if self._long is None:
            from leaderboard.evals import sample_details

            sample_details.attach([self])
        assert self._long is not None
        return self._long

    @property
    def parts(self) -> dict[str, Any]:
        """Sub-metric subsets, e.g. {"half": "pos"}."""
        return self._read_long()[0]

    @property
    def details(self) -> dict[str, Any]:
        """What produced the outcome: log-likelihoods, answer, judge output."""
        return self._read_long()[1]


class JobItemValues(models.Model):
    """One job's per-item values of one method's metric, packed (`leaderboard.evals.item_values`):
    what a board's rank spread resamples, every ranked job's in one query. Written with the
    job's results (`SampleResult.store`)."""

    job = models.ForeignKey(EvaluationJob, on_delete=models.CASCADE, related_name="item_values")
    method = models.CharField(max_length=32)
    metric = models.CharField(max_length=32, blank=True, help_text='"": the results\' own value.')
    items = models.BinaryField(
        help_text="Item ids in stored order: little-endian int64 differences from the id before."
    )
    values = models.BinaryField(help_text="Little-endian float64 beside each item; NaN: none.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["job", "method", "metric"], name="unique_job_item_values"
            )
        ]

    def __str__(self) -> str:
        return f"job {self.job_id} {self.method}/{self.metric or 'value'}"


class JobDisparity(models.Model):
    """How far apart a job's best and worst rankable slices of one dimension are on one
    method's primary metric, and its slices furthest below its own mean: computed once from
    the job's per-item results (`leaderboard.evals.disparity`), never per page request."""

    job = models.ForeignKey(EvaluationJob, on_delete=models.CASCADE, related_name="disparities")
    method = models.CharField(max_length=32)
    dimension = models.CharField(max_length=64)
    metric = models.CharField(max_length=32)
    value = models.FloatField(null=True, help_text="Best minus worst; null below two slices.")
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)
    detail = models.JSONField(
        default=dict, help_text="evaluation.benchmarks.disparity.Disparity as a dict."
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "method", "dimension"], name="unique_disparity_per_job"
            )
        ]

    def __str__(self) -> str:
        return f"job {self.job_id} {self.method} disparity by {self.dimension}: {self.value}"


class JobAgreement(models.Model):
    """How far a job's per-item verdicts under two methods of a declared pair agree, overall
    and per slice, with the items they disagree on: computed once from the job's per-item
    results (`leaderboard.evals.agreement`), never per page request."""

    job = models.ForeignKey(EvaluationJob, on_delete=models.CASCADE, related_name="agreements")
    pair = models.CharField(max_length=64, help_text="The methods' keys, A-B (mc-aj).")
    detail = models.JSONField(
        default=dict,
        help_text="leaderboard.evals.agreement.PairAgreement as a dict; empty where no item "
        "has a verdict of both methods.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "pair"], name="unique_agreement_per_job")
        ]

    def __str__(self) -> str:
        return f"job {self.job_id} {self.pair} agreement"
