"""Rows for tests, built directly (no importer, no model run), in one place.

Releases and their items; models, finished jobs with scores and per-example results that agree
with each other, and reproducibility cards built like the harness builds them. Each answer is
a deterministic function of (model, item, method)."""

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
from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.navab import MODES as NAVAB_MODES
from evaluation.benchmarks.navab import NATIONS as NAVAB_NATIONS
from evaluation.benchmarks.navab.lm_eval_tasks import AJ, GEN, MC, task_name
from evaluation.benchmarks.navab.records import triple_uid
from evaluation.results import ReproCard, slice_key
from evaluation.spec import ModelSpec
from evaluation.stats import bootstrap_ci, cell_seed, stderr
from leaderboard.catalog.facets import refresh_facets
from leaderboard.catalog.models import (
    Benchmark,
    DatasetRelease,
    Item,
    ItemSlice,
)
from leaderboard.catalog.search import refresh_search_documents
from leaderboard.catalog.slices import index_slices
from leaderboard.evals.models import (
    EvaluationJob,
    JobStatus,
    LanguageModel,
    SampleResult,
    Score,
)

NATIONS = ("cn", "us", "uk", "fr", "de")
MODES = ("quoted", "official")
METHODS = (MC, AJ)
TOPICS = ("economy", "security", "health")
SEED = 1234


def make_release(
    version: str = "r1",
    *,
    benchmark: str = "navab",
    per_cell: int = 0,
    published: bool = True,
    signal: bool = True,
    days_ago: int = 0,
    **fields: Any,
) -> DatasetRelease:
    """A release of BENCHMARK with `per_cell` NaVAB triples in every nation x mode.

    Published through `publish()` (its `release_published` signal queues the re-evaluation of
    every registered model once the transaction commits) unless `signal=False`, which sets the
    status directly so that no job gets queued behind the test's back. FIELDS are
    DatasetRelease columns (manifest, is_demo, source...)."""
    fields.setdefault("title", f"Release {version}")
    release = DatasetRelease.objects.create(
        benchmark=Benchmark.objects.get(slug=benchmark), version=version, **fields
    )
    if per_cell:
        save_items(_policy_triples(release, per_cell))
    if published and signal:
        release.publish()
    if published:
        release.status = DatasetRelease.Status.PUBLISHED
        release.published_at = (release.published_at or timezone.now()) - timedelta(days=days_ago)
        release.save(update_fields=["status", "published_at"])
    return release


def _policy_triples(release: DatasetRelease, per_cell: int) -> list[Item]:
    """`per_cell` distinct triples in every nation x evaluated mode, topics in rotation."""
    items = []
    for nation in NAVAB_NATIONS:
        for mode in (m for m in NAVAB_MODES if m.scored):
            for i in range(per_cell):
                cell = f"policy {i} ({mode.code})"
                items.append(
                    triple(
                        release,
                        nation.code,
                        mode.code,
                        question=f"Should {nation.name} adopt {cell}?",
                        statement=f"{nation.name} supports {cell}.",
                        reverse_statement=f"{nation.name} opposes {cell}.",
                        topic=TOPICS[i % len(TOPICS)],
                    )
                )
    return items


def triple(
    release: DatasetRelease,
    nation: str,
    mode: str,
    *,
    question: str,
    statement: str,
    reverse_statement: str,
    **fields: Any,
) -> Item:
    """One unsaved NaVAB item. FIELDS are declared item fields (into `data`) or Item columns
    (extra, source_file, source_index)."""
    columns = {k: fields.pop(k) for k in ("extra", "source_file", "source_index") if k in fields}
    data = {
        "speaker": "",
        "topic": "",
        "language": "en",
        "news_excerpt": "",
        "full_source": "",
        "raw_generation": "",
        "filter_flag": True,
        "filter_flag_text": "",
        **fields,
        "question": question,
        "statement": statement,
        "reverse_statement": reverse_statement,
    }
    return Item(
        release=release,
        uid=triple_uid(nation, mode, question, statement),
        slices={"nation": nation, "mode": mode},
        data=data,
        **columns,
    )


def add_triples(
    release: DatasetRelease,
    nation: str = "us",
    mode: str = "quoted",
    count: int = 1,
    *,
    question: str = "Should the state fund public broadcasting?",
    statement: str = "Public broadcasting deserves state funding.",
    reverse_statement: str = "Public broadcasting should not get state funding.",
    **fields: Any,
) -> list[Item]:
    """`count` saved NaVAB items in one nation x mode; texts get a numeric suffix when
    count > 1. FIELDS as for `triple`."""
    items = []
    for i in range(count):
        suffix = f" ({i})" if count > 1 else ""
        items.append(
            triple(
                release,
                nation,
                mode,
                question=question + suffix,
                statement=statement + suffix,
                reverse_statement=reverse_statement + suffix,
                **fields,
            )
        )
    return save_items(items)


def save_items(items: list[Item]) -> list[Item]:
    """Create the items with their slice rows and search vectors, as the importer does."""
    created = Item.objects.bulk_create(items)
    for release in {item.release for item in created}:
        added = Item.objects.filter(pk__in=[t.pk for t in created if t.release == release])
        index_slices(Item, ItemSlice, added)
        refresh_search_documents(added, get_benchmark(release.benchmark.slug))
        refresh_facets(DatasetRelease, Item, release)
    return created


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
    filters: dict[str, Any] = {
        "benchmark": "navab",
        "methods": methods,
        "slices": {"nation": list(NATIONS), "mode": list(MODES)},
    }
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
    navab = get_benchmark("navab")
    triples = sorted(
        release.items.filter(slice_values__dimension="nation", slice_values__value__in=nations),
        key=lambda t: (
            navab.slice_dimension("nation").sort_key(t.slices["nation"]),
            navab.slice_dimension("mode").sort_key(t.slices["mode"]),
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
                SampleResult.with_long(
                    {"half": "pos" if statement_is_a else "neg"},
                    {
                        "loglikelihoods": {
                            "A": -1.0 if chosen == "A" else -2.5,
                            "B": -1.0 if chosen == "B" else -2.5,
                        },
                        **({"answer": "An answer in one sentence."} if method == AJ else {}),
                    },
                    job=job,
                    item=triple,
                    method=method,
                    value=float(correct),
                    correct=correct,
                    chosen=chosen,
                )
            )
    if samples:
        SampleResult.store(job.pk, rows)
    by_cell: dict[tuple[str, str, str], list[tuple[bool, bool]]] = defaultdict(list)
    for (triple, method), values in outcomes.items():
        by_cell[(triple.slices["nation"], triple.slices["mode"], method)].extend(values)
    Score.objects.bulk_create(
        _score(job, nation, mode, method, values)
        for (nation, mode, method), values in by_cell.items()
    )
    return job


def _score(
    job: EvaluationJob, nation: str, mode: str, method: str, values: list[tuple[bool, bool]]
) -> Score:
    correct = [c for c, _ in values]
    pos = [c for c, is_a in values if is_a]
    neg = [c for c, is_a in values if not is_a]
    low, high = bootstrap_ci(correct, cell_seed(SEED, nation, mode, method))
    cell = {"nation": nation, "mode": mode}
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


#: DiverValue-Bench users of `dvb_release`: (birth country/region, region, age, gender)
DVB_COUNTRIES = (
    ("United Kingdom", "Western", "25-34 years old", "Female"),
    ("Japan", "East Asia", "35-44 years old", "Male"),
    ("Nigeria", "Africa", "18-24 years old", "Female"),
    ("Brazil", "Latin America", "45-54 years old", "Male"),
)


def dvb_release(
    version: str = "dvb-1", *, users_per_country: int = 3, items_per_user: int = 4, **fields: Any
) -> DatasetRelease:
    """A published DiverValue-Bench release: DVB_COUNTRIES' users (test split) and one small
    country of one user with 2 items (below the default min_n, greyed)."""
    release = make_release(version, benchmark="divervalue", signal=False, **fields)
    people = [
        (f"{country[:2].lower()}{u}", country, region, age, gender, items_per_user)
        for country, region, age, gender in DVB_COUNTRIES
        for u in range(users_per_country)
    ] + [("fj0", "Fiji", "Oceania", "55-64 years old", "Female", 2)]
    items = [
        Item(
            release=release,
            uid=f"{user}-{i}",
            slices={
                "birth_country": country,
                "region": region,
                "age": age,
                "gender": gender,
                "education": "University",
                "marital_status": "Single",
            },
            data={
                "user_id": user,
                "split": "test",
                "question": f"What matters most to {user}, question {i}?",
                "answer_w": "An answer this user prefers.",
                "answer_l": "An answer this user dislikes.",
            },
        )
        for user, country, region, age, gender, count in people
        for i in range(count)
    ]
    save_items(items)
    return release


def dvb_evaluate(
    model: LanguageModel,
    release: DatasetRelease,
    margin: Mapping[str, float],
    *,
    skip: Iterable[str] = (),
) -> EvaluationJob:
    """A finished OPA job whose per-item margins are MARGIN[birth country] plus a fixed
    per-item wobble, each item's outcome as the harness computes it, and an overall score;
    the items of users born in SKIP left out (as a model whose context they overflow)."""
    from evaluation.benchmarks.divervalue.lm_eval_utils import item_outcome

    job = finished_job(model, release, methods=["opa"])
    rows = []
    # As the harness: the DVB-test users' items only.
    for item in release.items.filter(data__split="test").order_by("uid"):
        if item.slices["birth_country"] in skip:
            continue
        wobble = (zlib.crc32(f"{model.name}/{item.uid}".encode()) % 400) / 100 - 2.0
        value = margin[item.slices["birth_country"]] + wobble
        outcome = item_outcome(value, 1, 0.0, 1)
        rows.append(
            SampleResult.with_long(
                {},
                {"user_id": item.data["user_id"], "outcome": outcome},
                job=job,
                item=item,
                method="opa",
                value=outcome["margin"],
                correct=value > 0,
                chosen="answer_w" if value > 0 else "answer_l",
            )
        )
    SampleResult.store(job.pk, rows)
    opa = sum(r.details["outcome"]["opa"] for r in rows) / len(rows)
    Score.objects.create(
        job=job, slices={}, slice_key="", method="opa", metric="opa", value=opa, n=len(rows),
        stderr=0.01, ci_low=max(0.0, opa - 0.1), ci_high=min(1.0, opa + 0.1),
    )  # fmt: skip
    return job


def score_slices(
    model: LanguageModel,
    release: DatasetRelease,
    *,
    skill: float = 0.6,
    by_value: Mapping[str, float] | None = None,
) -> EvaluationJob:
    """A finished DiverValue-Bench-shaped job (scores overall and per one-dimension slice, as
    its harness stores them) from deterministic per-item outcomes on the release's items;
    `by_value` sets the skill of the items holding a slice value (e.g. a birth country)."""
    method = get_benchmark(release.benchmark.slug).methods[0]
    job = finished_job(model, release, methods=[method.key])
    outcomes: dict[tuple[tuple[str, str], ...], list[float]] = defaultdict(list)
    for item in release.items.order_by("uid"):
        rate = next((by_value[v] for v in item.slices.values() if v in (by_value or {})), skill)
        won = float(answers_right(model.name, item.uid, method.key, rate))
        outcomes[()].append(won)
        for cell in item.slices.items():
            outcomes[(cell,)].append(won)
    rows = []
    for cell, values in outcomes.items():
        se = stderr(values)
        mean = sum(values) / len(values)
        for metric in method.metrics:
            # The margin of a won item is +1, of a lost one -1: enough for pictures and ranks.
            value = mean if metric.upper is not None else 2 * mean - 1
            spread = 1.96 * (se if metric.upper is not None else 2 * se)
            rows.append(
                Score(
                    job=job,
                    slices=dict(cell),
                    slice_key=slice_key(dict(cell)),
                    method=method.key,
                    metric=metric.key,
                    value=value,
                    n=len(values),
                    stderr=se,
                    ci_low=metric.clamp(value - spread),
                    ci_high=metric.clamp(value + spread),
                )
            )
    Score.objects.bulk_create(rows)
    return job
