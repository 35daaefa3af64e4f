"""How the numbers are made: triples, modes, prompts, metric, intervals, ranks, reproduction."""

from __future__ import annotations

import shlex
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from evaluation.benchmarks.navab import prompts
from evaluation.benchmarks.navab.lm_eval_tasks import GEN, MC, group_name, task_name
from evaluation.stats import BOOTSTRAP_ITERS
from leaderboard.benchmark.models import DatasetRelease, Mode, Nation
from leaderboard.boards.paired import DEFAULT_RESAMPLES
from leaderboard.boards.queries import models_on_release
from leaderboard.boards.reproduce import RELEASE_DIR, card_commands, generic_commands
from leaderboard.boards.views.models import latest_finished
from leaderboard.evals.models import LanguageModel


def methodology(request: HttpRequest) -> HttpResponse:
    release = DatasetRelease.objects.current()
    model = None
    model_commands: list[str] = []
    model_id = request.GET.get("model", "")
    if model_id.isdigit():
        model = LanguageModel.objects.filter(pk=int(model_id)).first()
        job = latest_finished(model, release) if model else None
        model_commands = card_commands(job.repro_card) if job else []
    download_command = ""
    candidates: list[Any] = []
    if release is not None:
        url = request.build_absolute_uri(
            reverse("download-release", args=[release.version, "jsonl"])
        )
        download_command = shlex.join(
            ["curl", "--create-dirs", "-o", f"{RELEASE_DIR}/triples.jsonl", url]
        )
        candidates = list(
            models_on_release(release).order_by("name", "pk").values("pk", "name", "revision")
        )
    context = {
        "release": release,
        "nations": Nation.objects.all(),
        "modes": Mode.objects.evaluated(),
        "mc_template": prompts.MC_TEMPLATE,
        "answer_template": prompts.ANSWER_TEMPLATE,
        "judge_template": prompts.JUDGE_TEMPLATE,
        "answer_stop": prompts.ANSWER_STOP,
        "bootstrap_iters": BOOTSTRAP_ITERS,
        "paired_resamples": DEFAULT_RESAMPLES,
        "mc_group": group_name(MC),
        "gen_group": group_name(GEN),
        "aj_group": group_name("aj"),
        "mc_task_example": task_name(MC, "us", Mode.QUOTED),
        "commands": generic_commands(settings.EVAL_SEED, settings.EVAL_MAX_GEN_TOKENS),
        "download_command": download_command,
        "candidates": candidates,
        "model": model,
        "model_commands": model_commands,
    }
    return render(request, "boards/methodology.html", context)
