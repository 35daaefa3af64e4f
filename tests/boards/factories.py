"""Rows for board tests: a small release, models, finished jobs with scores and per-example
results that agree with each other, and reproducibility cards built like the harness builds
them. No model is run: each answer is a deterministic function of (model, item, method)."""

from __future__ import annotations

import hashlib
import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from evaluation import repro
from evaluation.benchmarks.navab.lm_eval_tasks import AJ, GEN, MC, task_name
from evaluation.results import ReproCard, slice_key
from evaluation.spec import ModelSpec
from evaluation.stats import bootstrap_ci, cell_seed, stderr
from leaderboard.benchmark.models import DatasetRelease, Item, Mode, Nation, make_triple_uid
from leaderboard.evals.models import (
    EvaluationJob,
    JobStatus,
    LanguageModel,
    SampleResult,
    Score,
)
from tests.benchmark.factories import navab, save_items

NATIONS = ("cn", "us", "uk", "fr", "de")
MODES = ("quoted", "official")
METHODS = (MC, AJ)
TOPICS = ("economy", "security", "health")
SEED = 1234


def make_release(
    version: str = "r1", *, per_cell: int = 4, published: bool = True, days_ago: int = 0
) -> DatasetRelease:
    """`per_cell` triples in every nation x mode. Published directly (no signal), so no
    re-evaluation jobs get queued behind the test's back."""
    status = DatasetRelease.Status.PUBLISHED if published else DatasetRelease.Status.DRAFT
    release = DatasetRelease.objects.create(
        benchmark=navab(),
        version=version,
        title=f"Release {version}",
        status=status,
        published_at=timezone.now() - timedelta(days=days_ago) if published else None,
    )
    triples = []
    for nation in Nation.objects.all():
        for mode in Mode.objects.evaluated():
            for i in range(per_cell):
                question = f"Should {nation.name} adopt policy {i} ({mode.code})?"
                statement = f"{nation.name} supports policy {i} ({mode.code})."
                triples.append(
                    Item(
                        release=release,
                        slices={"nation": nation.code, "mode": mode.code},
                        uid=make_triple_uid(nation.code, mode.code, question, statement),
                        data={
                            "question": question,
                            "statement": statement,
                            "reverse_statement": f"{nation.name} opposes policy {i} ({mode.code}).",
                            "topic": TOPICS[i % len(TOPICS)],
                            "language": "en",
                        },
                    )
                )
    save_items(triples)
    return release


def make_model(
    name: str,
    *,
    params_billions: float | None = 7.0,
    model_type: str = "base",
    precision: str = "bfloat16",
    family: str = "",
    revision: str | None = None,
) -> LanguageModel:
    return LanguageModel.objects.create(
        name=name,
        revision=revision if revision is not None else hashlib.sha1(name.encode()).hexdigest(),
        params_billions=params_billions,
        model_type=model_type,
        precision=precision,
        family=family,
    )


def answers_right(model_name: str, uid: str, method: str, skill: float) -> bool:
    """A fixed coin per (model, item, method), landing "right" with probability `skill`."""
    return zlib.crc32(f"{model_name}/{uid}/{method}".encode()) % 1000 < skill * 1000


def repro_card(
    model: LanguageModel, release: DatasetRelease, methods: Iterable[str]
) -> dict[str, Any]:
    """A card shaped like the harness's, with commands from the same functions."""
    methods = list(methods)
    spec = ModelSpec(pretrained=model.name, revision=model.revision, dtype=model.precision)
    release_dir = Path(f"/srv/navab/releases/{release.version}")
    out = f"/srv/navab/results/{model.pk}"
    tasks_dir = f"{out}/tasks"
    filters: dict[str, Any] = {"methods": methods, "nations": list(NATIONS), "modes": list(MODES)}
    commands = [
        repro.export_command(release_dir, tasks_dir, limit=None, max_gen_toks=128, **filters)
    ]
    # MC is one stage; AJ's first stage (the answers) is the GEN task (its judge needs them).
    for kind in [kind for kind, method in ((MC, MC), (GEN, AJ)) if method in methods]:
        tasks = [task_name(kind, n, m) for n in NATIONS for m in MODES]
        commands.append(
            repro.lm_eval_command(
                spec, tasks, tasks_dir, f"{out}/lm_eval/{kind}", seed=SEED, device="cuda"
            )
        )
    card = ReproCard(
        model=spec.to_dict(),
        judge=None,
        release={
            "path": str(release_dir),
            "version": release.version,
            "total": None,
            "triples_sha256": hashlib.sha256(release.version.encode()).hexdigest(),
        },
        dtype=spec.dtype,
        batch_size=spec.batch_size,
        seed=SEED,
        device="cuda",
        device_name="NVIDIA H100 80GB HBM3",
        max_gen_toks=128,
        limit=None,
        versions={
            "python": "3.11.9",
            "lm_eval": "0.4.13",
            "transformers": "5.0.0",
            "torch": "2.13.0",
        },
        command=repro.run_command(
            spec,
            None,
            release_dir,
            out,
            seed=SEED,
            device="cuda",
            limit=None,
            max_gen_toks=128,
            **filters,
        ),
        lm_eval_commands=commands,
        started_at="2026-01-01T00:00:00+00:00",
        duration_s=42.0,
        methods=methods,
        slices={"nation": list(NATIONS), "mode": list(MODES)},
    )
    return card.to_dict()


def finished_job(
    model: LanguageModel,
    release: DatasetRelease,
    *,
    methods: Iterable[str] = METHODS,
    finished_at: datetime | None = None,
) -> EvaluationJob:
    """A finished evaluation job with a card and no scores yet."""
    methods = list(methods)
    attempt = model.jobs.filter(release=release).count() + 1
    return EvaluationJob.objects.create(
        model=model,
        release=release,
        attempt=attempt,
        status=JobStatus.FINISHED,
        methods=methods,
        repro_card=repro_card(model, release, methods),
        started_at=(finished_at or timezone.now()) - timedelta(minutes=5),
        finished_at=finished_at or timezone.now(),
    )


def evaluate(
    model: LanguageModel,
    release: DatasetRelease,
    *,
    skill: float | Mapping[str, float] = 0.7,
    methods: Iterable[str] = METHODS,
    nations: Iterable[str] = NATIONS,
    samples: bool = True,
    finished_at: datetime | None = None,
) -> EvaluationJob:
    """A finished job whose scores are computed from its per-example answers (like the
    harness: position-balanced halves, bootstrap intervals). `skill` may vary by nation."""
    methods = list(methods)
    nations = set(nations)
    job = finished_job(model, release, methods=methods, finished_at=finished_at)
    nation_rows = {n.code: n for n in Nation.objects.all()}
    mode_rows = {m.code: m for m in Mode.objects.all()}
    triples = sorted(
        release.items.filter(slice_values__dimension="nation", slice_values__value__in=nations),
        key=lambda t: (
            nation_rows[t.slices["nation"]].sort_order,
            mode_rows[t.slices["mode"]].sort_order,
            t.uid,
        ),
    )
    outcomes: dict[tuple[Item, str], list[tuple[bool, bool]]] = defaultdict(list)
    rows = []
    position: dict[tuple[str, str], int] = defaultdict(int)
    for triple in triples:
        cell = (triple.slices["nation"], triple.slices["mode"])
        # Even items of a cell put S as option A, odd ones RS (as the harness balances them).
        index = position[cell]
        position[cell] += 1
        statement_is_a = index % 2 == 0
        rate = skill if isinstance(skill, float) else skill.get(cell[0], 0.7)
        for method in methods:
            correct = answers_right(model.name, triple.uid, method, rate)
            chosen = "A" if correct == statement_is_a else "B"
            outcomes[(triple, method)].append((correct, statement_is_a))
            rows.append(
                SampleResult(
                    job=job,
                    triple=triple,
                    method=method,
                    value=float(correct),
                    correct=correct,
                    chosen=chosen,
                    parts={"half": "pos" if statement_is_a else "neg"},
                    details={
                        "loglikelihoods": {
                            "A": -1.0 if chosen == "A" else -2.5,
                            "B": -1.0 if chosen == "B" else -2.5,
                        },
                        **({"answer": "An answer in one sentence."} if method == AJ else {}),
                    },
                )
            )
    if samples:
        SampleResult.objects.bulk_create(rows)
    by_cell: dict[tuple[Nation, Mode, str], list[tuple[bool, bool]]] = defaultdict(list)
    for (triple, method), values in outcomes.items():
        nation, mode = nation_rows[triple.slices["nation"]], mode_rows[triple.slices["mode"]]
        by_cell[(nation, mode, method)].extend(values)
    Score.objects.bulk_create(
        _score(job, nation, mode, method, values)
        for (nation, mode, method), values in by_cell.items()
    )
    return job


def _score(
    job: EvaluationJob, nation: Nation, mode: Mode, method: str, values: list[tuple[bool, bool]]
) -> Score:
    correct = [c for c, _ in values]
    pos = [c for c, is_a in values if is_a]
    neg = [c for c, is_a in values if not is_a]
    low, high = bootstrap_ci(correct, cell_seed(SEED, nation.code, mode.code, method))
    cell = {"nation": nation.code, "mode": mode.code}
    return Score(
        job=job,
        slices=cell,
        slice_key=slice_key(cell),
        method=method,
        metric="acc",
        value=sum(correct) / len(correct),
        n=len(correct),
        stderr=stderr(correct),
        ci_low=low,
        ci_high=high,
        parts={
            "pos": {"value": sum(pos) / len(pos) if pos else None, "n": len(pos)},
            "neg": {"value": sum(neg) / len(neg) if neg else None, "n": len(neg)},
        },
    )


def set_scores(
    job: EvaluationJob,
    cells: Mapping[tuple[str, str, str], tuple[float, float, float]],
    *,
    n: int = 100,
) -> None:
    """Exact scores: {(nation, mode, method): (value, ci_low, ci_high)} (no per-example rows)."""
    Score.objects.bulk_create(
        Score(
            job=job,
            slices={"nation": nation, "mode": mode},
            slice_key=slice_key({"nation": nation, "mode": mode}),
            method=method,
            metric="acc",
            value=value,
            n=n,
            stderr=(high - low) / 3.92,
            ci_low=low,
            ci_high=high,
            parts={"pos": {"value": value, "n": n // 2}, "neg": {"value": value, "n": n - n // 2}},
        )
        for (nation, mode, method), (value, low, high) in cells.items()
    )


def uniform_cells(
    value: float,
    half_width: float = 0.05,
    *,
    nations: Iterable[str] = NATIONS,
    modes: Iterable[str] = MODES,
    methods: Iterable[str] = METHODS,
) -> dict[tuple[str, str, str], tuple[float, float, float]]:
    """The same score in every cell: value +- half_width."""
    return {
        (n, m, k): (value, max(0.0, value - half_width), min(1.0, value + half_width))
        for n in nations
        for m in modes
        for k in methods
    }


def ranked_model(
    name: str, release: DatasetRelease, value: float, half_width: float = 0.05, **fields: Any
) -> LanguageModel:
    """A model with a finished job scoring `value` +- `half_width` in every cell."""
    model = make_model(name, **fields)
    set_scores(finished_job(model, release), uniform_cells(value, half_width))
    return model
