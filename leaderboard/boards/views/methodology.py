"""How a benchmark's numbers are made, from its declaration: items, slices, methods and their
prompts, metrics, intervals, ranks, comparisons and reproduction."""

from __future__ import annotations

import shlex

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.contract import IntervalMethod
from evaluation.stats import BOOTSTRAP_ITERS
from leaderboard.boards.judges import configured_judge, missing_judge_notice
from leaderboard.boards.paired import DEFAULT_RESAMPLES
from leaderboard.boards.params import parse_pk
from leaderboard.boards.queries import model_options
from leaderboard.boards.rank_replicates import RANK_RESAMPLES
from leaderboard.boards.reproduce import RELEASE_DIR, TASKS_DIR, card_commands
from leaderboard.catalog.counts import slice_values
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.models import LanguageModel

INTERVALS = {
    IntervalMethod.BINOMIAL: "bootstrap over the items (each a right or wrong outcome)",
    IntervalMethod.BOOTSTRAP: "bootstrap over the items",
    IntervalMethod.CLUSTER: "cluster bootstrap: whole clusters of items resampled together",
}


def methodology(request: HttpRequest, benchmark: str) -> HttpResponse:
    declared = get_benchmark(benchmark)
    release = (
        DatasetRelease.objects.filter(benchmark__slug=benchmark)
        .select_related("benchmark")
        .current()
    )
    model = None
    model_commands: list[str] = []
    model_pk = parse_pk(request.GET.get("model", ""))
    if model_pk is not None:
        model = LanguageModel.objects.filter(pk=model_pk).first()
        job = model.jobs.filter(release=release).latest_finished() if model and release else None
        model_commands = card_commands(job.repro_card) if job else []
    download_command = ""
    options = ""
    held: dict[str, list[str]] = {}
    if release is not None:
        url = request.build_absolute_uri(
            reverse("download-release", args=[benchmark, release.version, "jsonl"])
        )
        download_command = shlex.join(
            ["curl", "--create-dirs", "-o", f"{RELEASE_DIR}/{declared.items_file}", url]
        )
        options = model_options(release).selecting(model.pk if model else None)
        held = slice_values(release)
    context = {
        "benchmark": declared,
        "glossary": declared.terms_for(declared.terms()),
        "release": release,
        "fields": declared.item_fields,
        "dimensions": [
            {
                "dimension": d,
                "values": [(v, d.label_of(v), v in d.unscored) for v in held.get(d.key, [])],
            }
            for d in declared.slices
        ],
        "averaged": declared.averaged_dimension,
        "methods": [
            {
                "method": m,
                "metrics": [(metric, INTERVALS[metric.interval]) for metric in m.metrics],
                "judge_notice": missing_judge_notice(m),
            }
            for m in declared.methods
        ],
        "disparity_intervals": [
            f"{m.label}: {INTERVALS[m.primary_metric.interval]}"
            + (f" (by {m.primary_metric.cluster_field})" if m.primary_metric.cluster_field else "")
            for m in declared.methods
        ],
        "bootstrap_iters": BOOTSTRAP_ITERS,
        "rank_resamples": RANK_RESAMPLES,
        "paired_resamples": DEFAULT_RESAMPLES,
        "stock_commands": declared.stock_commands(
            RELEASE_DIR,
            TASKS_DIR,
            seed=settings.EVAL_SEED,
            max_gen_toks=settings.EVAL_MAX_GEN_TOKENS,
        ),
        "download_command": download_command,
        "model_options": options,
        "model": model,
        "model_commands": model_commands,
        "reference_judge": configured_judge(),
    }
    return render(request, "boards/methodology.html", context)
