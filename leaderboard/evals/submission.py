"""Submitting a model: validation shared by the form and the API, then one job per chosen
benchmark, on that benchmark's current release."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from evaluation.benchmarks import benchmark_slugs, get_benchmark
from evaluation.model_check import ModelCheckError, ModelInfo, check_hub, check_local
from evaluation.spec import tracks_of
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals import lifecycle
from leaderboard.evals.models import ApiKind, EvaluationJob, JobStatus, LanguageModel, Provider


class SubmissionError(ValueError):
    """Refused submission; `field` names the form field to attach the message to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Submission:
    name: str
    revision: str = ""
    precision: str = "auto"
    model_type: str = "base"
    params_billions: float | None = None
    family: str = ""
    use_chat_template: bool = False
    endpoint_url: str = ""
    #: a registered provider's name: `name` is the model's name at that provider
    provider: str = ""
    #: benchmark slugs to evaluate on; empty: every benchmark with a published release
    benchmarks: list[str] = field(default_factory=list)


def current_releases() -> dict[str, DatasetRelease]:
    """Each benchmark's current (newest published) release, in registry order; benchmarks
    without one are left out."""
    releases = {}
    for slug in benchmark_slugs():
        release = (
            DatasetRelease.objects.filter(benchmark__slug=slug)
            .select_related("benchmark")
            .current()
        )
        if release is not None:
            releases[slug] = release
    return releases


def chosen_releases(benchmarks: list[str]) -> list[DatasetRelease]:
    """The current releases of BENCHMARKS (all that have one when empty)."""
    available = current_releases()
    if not available:
        raise SubmissionError("There is no published dataset release to evaluate on yet.")
    if not benchmarks:
        return list(available.values())
    missing = [slug for slug in benchmarks if slug not in available]
    if missing:
        raise SubmissionError(
            f"No published release to evaluate on for {', '.join(missing)}; choose from "
            f"{', '.join(available)}.",
            field="benchmarks",
        )
    return [release for slug, release in available.items() if slug in benchmarks]


def submissions_today(user: Any) -> int:
    """Submissions and re-runs this user asked for in the last 24 h; failed and cancelled
    jobs don't count. One submission's jobs on several benchmarks share a model and an
    attempt, and count once."""
    since = timezone.now() - timedelta(days=1)
    return (
        EvaluationJob.objects.filter(requested_by=user, created_at__gte=since)
        .exclude(status__in=[JobStatus.FAILED, JobStatus.CANCELLED])
        .order_by()
        .values("model_id", "attempt")
        .distinct()
        .count()
    )


def check_rate_limit(user: AbstractBaseUser | AnonymousUser) -> None:
    if getattr(user, "is_staff", False):
        return
    limit = settings.SUBMISSIONS_PER_DAY
    if submissions_today(user) >= limit:
        raise SubmissionError(
            f"You have reached the limit of {limit} submissions in 24 hours "
            "(failed and cancelled ones are not counted). Please try again later."
        )


@contextmanager
def daily_quota(user: AbstractBaseUser | AnonymousUser) -> Iterator[None]:
    """Check the daily limit and create the job inside, as one transaction.

    Counting and inserting in separate steps let parallel requests all see the same count and
    all pass; locking the user's row makes each of that user's requests wait for the previous
    one's job to commit (or roll back) before it counts.
    """
    with transaction.atomic():
        pk = getattr(user, "pk", None)
        if pk is not None and not getattr(user, "is_staff", False):
            get_user_model().objects.select_for_update().filter(pk=pk).first()
        check_rate_limit(user)
        yield


def check_endpoint(url: str, user: AbstractBaseUser | AnonymousUser) -> None:
    """Workers send requests to a served model's endpoint, so only staff or allow-listed hosts
    may name one: anything else would let a submitter point the GPU network at any address."""
    host = (urlsplit(url).hostname or "").lower()
    if getattr(user, "is_staff", False) or host in settings.SUBMISSION_ENDPOINT_HOSTS:
        return
    raise SubmissionError(
        f"Endpoints on {host or 'that host'} are not accepted; ask the operators to allow-list "
        "your server, or submit the model's weights instead.",
        field="endpoint_url",
    )


def chosen_provider(sub: Submission, user: AbstractBaseUser | AnonymousUser) -> Provider | None:
    if not sub.provider:
        return None
    if sub.endpoint_url:
        raise SubmissionError("Name a provider or an endpoint, not both.", field="endpoint_url")
    provider = Provider.objects.filter(name=sub.provider).first()
    if provider is None or not (provider.accepts_submissions or getattr(user, "is_staff", False)):
        raise SubmissionError(
            f"{sub.provider!r} is not a provider accepting submissions.", field="provider"
        )
    return provider


def releases_for_tracks(
    releases: list[DatasetRelease], provider: Provider | None, chosen: list[str]
) -> list[DatasetRelease]:
    """A chat model gives no log-likelihoods: only benchmarks with a method on its tracks
    (the generated letter, a judge) that this installation can run score it; asking for
    another is refused with the reason (DiverValue-Bench's PAA without a judge panel)."""
    if provider is None or provider.api_kind != ApiKind.CHAT:
        return releases
    tracks = tracks_of("openai-chat")
    fit, reasons = [], []
    for release in releases:
        benchmark = get_benchmark(release.benchmark.slug)
        on_track = [m.key for m in benchmark.methods if m.track in tracks]
        missing = benchmark.unavailable_methods()
        if any(key not in missing for key in on_track):
            fit.append(release)
        elif release.benchmark.slug in chosen:
            why = "; ".join(missing[k].rstrip(".") for k in on_track)
            reasons.append(
                f"{release.benchmark.slug} cannot score a chat model here: "
                f"{why or 'it has no method that reads generated text'}."
            )
    if reasons or not fit:
        raise SubmissionError(
            " ".join(reasons)
            or "No benchmark can score a chat model (none has a method that reads text).",
            field="benchmarks",
        )
    return fit


def inspect(sub: Submission) -> ModelInfo:
    """Check the model is loadable without remote code and pin its revision."""
    try:
        if sub.provider:
            return ModelInfo(
                revision="",
                params=None,
                architecture="provider",
                verified=False,
                note=f"Served by {sub.provider}: weights not inspected.",
            )
        if sub.endpoint_url:
            return ModelInfo(
                revision=sub.revision,
                params=None,
                architecture="endpoint",
                verified=False,
                note="Served model: weights not inspected.",
            )
        if sub.name.startswith("/"):
            return check_local(Path(sub.name), settings.SUBMISSION_LOCAL_ROOTS)
        return check_hub(sub.name, sub.revision)
    except ModelCheckError as exc:
        raise SubmissionError(str(exc), field="name") from exc


def submit(sub: Submission, user: Any) -> list[EvaluationJob]:
    """Validate, register the model and queue its evaluation on the current release of each
    chosen benchmark (one job each)."""
    releases = chosen_releases(sub.benchmarks)
    provider = chosen_provider(sub, user)
    releases = releases_for_tracks(releases, provider, sub.benchmarks)
    # Refused before the costly model check; daily_quota counts again, under the lock.
    check_rate_limit(user)
    if sub.endpoint_url:
        check_endpoint(sub.endpoint_url, user)
    if sub.name.startswith("/") and not sub.endpoint_url:
        # One spelling per directory ("dir/", "a/../dir" are the same model).
        sub = replace(sub, name=str(Path(sub.name).resolve()))
    info = inspect(sub)
    params_b = (
        sub.params_billions
        if sub.params_billions is not None
        else (info.params / 1e9 if info.params else None)
    )
    if params_b is not None and params_b > settings.SUBMISSION_MAX_PARAMS_B:
        raise SubmissionError(
            f"Models above {settings.SUBMISSION_MAX_PARAMS_B:g}B parameters are not accepted "
            f"(this one has {params_b:.1f}B).",
            field="params_billions",
        )
    existing = LanguageModel.objects.filter(
        name=sub.name, revision=info.revision, precision=sub.precision, provider=provider
    ).first()
    if existing is not None:
        at = f" at {provider}" if provider is not None else ""
        raise SubmissionError(
            f"{existing.display_name}{at} in {sub.precision} was already submitted "
            f"(see {existing.get_absolute_url()}).",
            field="name",
        )
    try:
        with daily_quota(user):
            model = LanguageModel.objects.create(
                name=sub.name,
                revision=info.revision,
                precision=sub.precision,
                model_type=sub.model_type,
                params_billions=params_b,
                family=sub.family or sub.name.rsplit("/", 1)[-1].split("-")[0].lower(),
                use_chat_template=sub.use_chat_template,
                endpoint_url=sub.endpoint_url,
                provider=provider,
                weights_path=sub.name if sub.name.startswith("/") else "",
                submitter=user if getattr(user, "pk", None) else None,
            )
            note = f"Submitted ({info.note})" if info.note else "Submitted"
            return [
                lifecycle.create_job(model, release, requested_by=user, reason=note)
                for release in releases
            ]
    except IntegrityError as exc:  # a concurrent identical submission won the race
        raise SubmissionError(
            "This model, revision and precision was just submitted.", "name"
        ) from exc
