"""How every ranked model answered one item: its choice, whether it was right, its per-item
value and the details behind it (log-likelihoods, a free answer), as the declaration names
the item's fields and methods."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.models import Item
from leaderboard.catalog.visibility import visible_releases
from leaderboard.evals.models import LanguageModel, SampleResult
from leaderboard.evals.slices import item_values


def item_results(request: HttpRequest, benchmark: str, version: str, uid: str) -> HttpResponse:
    item = get_object_or_404(
        Item.objects.select_related("release__benchmark"),
        release__in=visible_releases(request.user).filter(benchmark__slug=benchmark),
        release__version=version,
        uid=uid,
    )
    declared = get_benchmark(benchmark)
    # Each model's latest full-release evaluation: the run the board ranks it on.
    latest_jobs = LanguageModel.objects.latest_jobs(item.release)
    samples = list(
        SampleResult.objects.filter(item=item, job_id__in=latest_jobs)
        .select_related("job__model")
        .order_by("method", "-correct", "job__model__name")
    )
    # method -> (models right, models that answered), in the declared order
    summary = {
        method.key: (sum(bool(s.correct) for s in of_method), len(of_method))
        for method in declared.methods
        if (of_method := [s for s in samples if s.method == method.key])
    }
    labels = {m.key: m.label for m in declared.methods}
    context = {
        "item": item,
        "release": item.release,
        "benchmark": declared,
        "fields": [
            (f.label, item.data.get(f.name))
            for f in declared.content_fields()
            if f.required and f.kind == "text"
        ],
        "samples": samples,
        "rows": [(s, labels.get(s.method, s.method)) for s in samples],
        "summary": summary,
        "summary_rows": [(labels[key], *counts) for key, counts in summary.items()],
        # Said in plain words where the item is one evaluations never score.
        "unscored_reason": "" if samples else declared.unscored_reason(item_values(declared, item)),
        "evaluated_models": 0 if samples else latest_jobs.count(),
    }
    return render(request, "boards/item_results.html", context)
