"""Starting an alignment (DPO + LoRA) run for a model: its owner or staff only.

The page offers every benchmark whose declaration supports alignment and has a published
release (`?benchmark=slug`, default the first); targets, defaults and the split come from it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from evaluation.capacity import NoCapacity
from leaderboard.evals import lifecycle, routing
from leaderboard.evals.forms import AlignmentForm
from leaderboard.evals.models import JobKind, LanguageModel
from leaderboard.evals.permissions import can_manage_model
from leaderboard.evals.slices import declaration
from leaderboard.evals.submission import SubmissionError, current_releases, daily_quota


@login_required
def align_model(request: HttpRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(LanguageModel, pk=pk)
    if not can_manage_model(request.user, model):
        raise PermissionDenied("Only the model's submitter or staff can align it.")
    releases = {
        slug: release
        for slug, release in current_releases().items()
        if declaration(release).alignment is not None
    }
    slug = request.GET.get("benchmark") or next(iter(releases), "")
    if slug and slug not in releases:
        raise Http404("No published release of that benchmark offers alignment.")
    release = releases.get(slug)
    problem = ""
    if model.endpoint_url:
        problem = "A served model (endpoint) has no local weights to fine-tune."
    elif model.publisher_run:
        problem = "The publisher's run is its released records: there are no weights to tune."
    elif release is None:
        problem = "There is no published release to train on."
    form = None
    if release is not None:
        run_dir = str(release.manifest.get("run_dir", ""))
        form = AlignmentForm(
            request.POST or None,
            benchmark=declaration(release),
            release=release,
            run_dir=run_dir,
        )
    if request.method == "POST" and not problem and form is not None and form.is_valid():
        assert release is not None
        target = form.cleaned_data["target"]
        try:
            # Refused here, with the sum, rather than queued to fail: training runs on one GPU.
            routing.check_alignment_fits(
                model, form.to_options().get("dpo", {}), declaration(release)
            )
            with daily_quota(request.user):
                job = lifecycle.create_job(
                    model,
                    release,
                    requested_by=request.user,
                    kind=JobKind.ALIGN,
                    alignment=form.to_options(),
                    reason=f"Alignment toward {target.label} requested",
                )
        except (lifecycle.JobConflict, SubmissionError, NoCapacity) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Alignment of {model.display_name} is queued.")
            return redirect(job)
    context = {
        "model": model,
        "form": form,
        "release": release,
        "benchmark": declaration(release) if release else None,
        "benchmarks": [(s, r.benchmark.name) for s, r in releases.items()],
        "slug": slug,
        "problem": problem,
    }
    return render(request, "evals/align.html", context)
