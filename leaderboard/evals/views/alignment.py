"""Starting an alignment (DPO + LoRA) run for a model: its owner or staff only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from leaderboard.benchmark.models import DatasetRelease, Nation
from leaderboard.evals import lifecycle
from leaderboard.evals.forms import AlignmentForm
from leaderboard.evals.models import JobKind, LanguageModel
from leaderboard.evals.permissions import can_manage_model
from leaderboard.evals.submission import SubmissionError, daily_quota


@login_required
def align_model(request: HttpRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(LanguageModel, pk=pk)
    if not can_manage_model(request.user, model):
        raise PermissionDenied("Only the model's submitter or staff can align it.")
    release = DatasetRelease.objects.current()
    nations = [(n.code, n.name) for n in Nation.objects.all()]
    run_dir = str((release.manifest if release else {}).get("run_dir", ""))
    form = AlignmentForm(request.POST or None, nations=nations, run_dir=run_dir)
    problem = ""
    if model.endpoint_url:
        problem = "A served model (endpoint) has no local weights to fine-tune."
    elif release is None:
        problem = "There is no published release to train on."
    if request.method == "POST" and not problem and form.is_valid():
        assert release is not None
        try:
            with daily_quota(request.user):
                job = lifecycle.create_job(
                    model,
                    release,
                    requested_by=request.user,
                    kind=JobKind.ALIGN,
                    alignment=form.to_options(),
                    reason=f"Alignment toward {form.cleaned_data['nation']} requested",
                )
        except (lifecycle.JobConflict, SubmissionError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Alignment of {model.display_name} is queued.")
            return redirect(job)
    context = {"model": model, "form": form, "release": release, "problem": problem}
    return render(request, "evals/align.html", context)
