"""How every ranked model answered one triple: its choice, whether it was right, and the
log-likelihoods behind it (and the free answer, for AJ)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from leaderboard.benchmark.models import Item
from leaderboard.benchmark.visibility import visible_releases
from leaderboard.boards.queries import latest_finished_job
from leaderboard.evals.models import LanguageModel, SampleResult


def triple_results(request: HttpRequest, version: str, uid: str) -> HttpResponse:
    triple = get_object_or_404(
        Item.objects.select_related("release__benchmark"),
        release__in=visible_releases(request.user),
        release__version=version,
        uid=uid,
    )
    # Each model's latest full-release evaluation: the run the board ranks it on.
    latest_jobs = LanguageModel.objects.annotate(
        latest_job_id=latest_finished_job(triple.release)
    ).values("latest_job_id")
    samples = list(
        SampleResult.objects.filter(triple=triple, job_id__in=latest_jobs)
        .select_related("job__model")
        .order_by("method", "-correct", "job__model__name")
    )
    summary = {
        method: (sum(bool(s.correct) for s in samples if s.method == method), count)
        for method in ("mc", "aj")
        if (count := sum(1 for s in samples if s.method == method))
    }
    context = {"triple": triple, "release": triple.release, "samples": samples, "summary": summary}
    return render(request, "boards/triple_results.html", context)
