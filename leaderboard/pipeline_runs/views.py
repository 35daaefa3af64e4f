"""Staff pages for pipeline runs: a list, a run page with live progress, its status JSON."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from leaderboard.pipeline_runs import approvals
from leaderboard.pipeline_runs.models import PipelineRun

View = Callable[..., HttpResponse]


def staff_only(*, json: bool = False) -> Callable[[View], View]:
    """Staff pass; anonymous users go to the login page (a JSON endpoint answers 403)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated and not json:
                return redirect_to_login(request.get_full_path())
            if not request.user.is_staff:
                raise PermissionDenied("Pipeline runs are for staff.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


@staff_only()
def run_list(request: HttpRequest) -> HttpResponse:
    runs = PipelineRun.objects.select_related("output_release", "created_by")[:100]
    return render(request, "pipeline_runs/run_list.html", {"runs": runs})


@staff_only()
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(PipelineRun.objects.select_related("output_release"), pk=pk)
    context = {"run": run, "status": status_data(run)}
    return render(request, "pipeline_runs/run_detail.html", context)


@staff_only(json=True)
def run_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by the run page for live progress."""
    run = get_object_or_404(PipelineRun.objects.select_related("output_release"), pk=pk)
    return JsonResponse(status_data(run))


def status_data(run: PipelineRun) -> dict[str, Any]:
    release = run.output_release
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": run.get_status_display(),
        "active": run.is_active,
        "stage": run.current_stage,
        "done": run.progress_done,
        "total": run.progress_total,
        "percent": run.progress_percent,
        "stages_done": run.stages_done,
        "stages_total": run.stages_total,
        "stages": run.stage_rows(),
        "pending_approvals": approvals.pending_count(run),
        "approvals_url": reverse("admin:pipelines_topicapproval_changelist")
        + f"?run__id__exact={run.pk}",
        "heartbeat_at": run.heartbeat_at.isoformat() if run.heartbeat_at else None,
        "failed_stage": run.failed_stage,
        "error": run.error,
        "log_tail": run.log_tail[-4000:],
        "release": (
            {
                "version": release.version,
                "status": release.status,
                "triples": release.items.count(),
                "url": release.get_absolute_url(),
            }
            if release
            else None
        ),
    }
