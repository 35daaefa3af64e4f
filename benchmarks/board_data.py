"""Board-shaped rows for load tests: published NaVAB and DiverValue-Bench releases and N models
with every score their boards read, written by bulk_create (call after django.setup())."""

from __future__ import annotations

from datetime import timedelta

NATIONS = ("cn", "us", "uk", "fr", "de")
# One birth country per region, as DiverValue-Bench's publisher groups them.
DVB_COUNTRIES = {
    "United Kingdom": "Western",
    "Japan": "East Asia",
    "Vietnam": "Southeast Asia",
    "India": "South Asia",
    "Nigeria": "Africa",
    "Poland": "Eastern Europe",
    "Israel": "Middle East",
    "Brazil": "Latin America",
    "New Zealand": "Oceania",
}
DVB_METRICS = ("opa", "acc_0", "margin")


def _value(index: int, salt: int) -> float:
    return 0.3 + 0.6 * ((index * 7919 + salt * 31) % 997) / 997


def _score_fields(value: float, n: int, proportion: bool = True) -> dict[str, object]:
    low, high = value - 0.047, value + 0.047
    return {
        "value": value,
        "n": n,
        "stderr": 0.024,
        "ci_low": max(0.0, low) if proportion else low,
        "ci_high": min(1.0, high) if proportion else high,
    }


def make_models(count: int, start: int = 0) -> list:
    from leaderboard.evals.models import LanguageModel

    types = ("base", "instruct", "moe", "aligned")
    return LanguageModel.objects.bulk_create(
        LanguageModel(
            name=f"org/model-{i:05d}",
            revision=f"{i:040x}",
            params_billions=[0.5, 1.5, 7.0, 13.0, 70.0][i % 5],
            model_type=types[i % len(types)],
            precision="bfloat16",
            family=f"family-{i % 20}",
        )
        for i in range(start, start + count)
    )


def _release(slug: str, version: str):
    from django.utils import timezone

    from leaderboard.catalog.models import Benchmark, DatasetRelease

    return DatasetRelease.objects.create(
        benchmark=Benchmark.objects.get(slug=slug),
        version=version,
        title=f"Load test release ({slug})",
        status=DatasetRelease.Status.PUBLISHED,
        published_at=timezone.now(),
    )


def _items(release, rows: list[tuple[str, dict[str, str], dict[str, str]]]) -> None:
    """Items (uid, slices, data) with their slice index: the board shows the slices a
    release holds, so a release without items ranks nobody."""
    from leaderboard.catalog.facets import refresh_facets
    from leaderboard.catalog.models import DatasetRelease, Item, ItemSlice
    from leaderboard.catalog.slices import index_slices

    Item.objects.bulk_create(
        Item(release=release, uid=uid, slices=slices, data=data) for uid, slices, data in rows
    )
    index_slices(Item, ItemSlice, release.items.all())
    refresh_facets(DatasetRelease, Item, release)


def fill_navab(models: list, release=None) -> list:
    """Per model a finished job with every cell (5 nations x 2 modes x 2 methods) and an older,
    superseded attempt with the 10 MC cells (the board must pick the newest): 30 scores a
    model. On RELEASE, else on a new one of one triple per nation x mode. Returns the newest
    jobs."""
    from django.utils import timezone

    from evaluation.benchmarks.navab import MODES
    from evaluation.benchmarks.navab.records import triple_uid
    from leaderboard.evals.models import EvaluationJob, JobStatus, Score

    now = timezone.now()
    nations = NATIONS
    modes = [mode.code for mode in MODES if mode.scored]
    if release is None:
        release = _release("navab", "load-1")
        _items(
            release,
            [
                (
                    triple_uid(nation, mode, f"Q {nation}", f"S {mode}"),
                    {"nation": nation, "mode": mode},
                    {
                        "question": f"Q {nation}",
                        "statement": f"S {mode}",
                        "reverse_statement": f"RS {mode}",
                    },
                )
                for nation in nations
                for mode in modes
            ],
        )
    jobs = EvaluationJob.objects.bulk_create(
        EvaluationJob(
            model=model,
            release=release,
            attempt=attempt,
            status=JobStatus.FINISHED,
            methods=["mc", "aj"],
            finished_at=now - timedelta(days=2 - attempt),
        )
        for model in models
        for attempt in (1, 2)
    )
    scores = []
    for index, job in enumerate(jobs):
        for n, nation in enumerate(nations, 1):
            for m, mode in enumerate(modes, 1):
                for method in ("mc", "aj") if job.attempt == 2 else ("mc",):
                    value = _value(index, n * 7 + m)
                    scores.append(
                        Score(
                            job=job,
                            slices={"nation": nation, "mode": mode},
                            slice_key=f"mode={mode}|nation={nation}",
                            method=method,
                            metric="acc",
                            parts={
                                "pos": {"value": value, "n": 200},
                                "neg": {"value": value, "n": 200},
                            },
                            **_score_fields(value, 400),
                        )
                    )
    Score.objects.bulk_create(scores, batch_size=5000)
    return [job for job in jobs if job.attempt == 2]


def fill_dvb(models: list, release=None) -> list:
    """Per model a finished OPA job with the overall, each region and each country, for its
    three metrics (OPA, accuracy at 0, mean margin). On RELEASE (its countries), else on a new
    one with users in one birth country per region. Returns the jobs."""
    from django.utils import timezone

    from evaluation.results import slice_key
    from leaderboard.catalog.counts import slice_values
    from leaderboard.evals.models import EvaluationJob, JobStatus, Score

    if release is None:
        release = _dvb_release()
    held = slice_values(release)
    countries = held.get("birth_country", [])
    regions = held.get("region", [])
    jobs = EvaluationJob.objects.bulk_create(
        EvaluationJob(
            model=model,
            release=release,
            status=JobStatus.FINISHED,
            methods=["opa"],
            finished_at=timezone.now(),
        )
        for model in models
    )
    cells: list[dict[str, str]] = [{}]
    cells += [{"region": region} for region in regions]
    cells += [{"birth_country": country} for country in countries]
    scores = []
    for index, job in enumerate(jobs):
        for c, cell in enumerate(cells):
            for m, metric in enumerate(DVB_METRICS):
                value = _value(index, c * 3 + m)
                if metric == "margin":
                    value = 4 * value - 2
                scores.append(
                    Score(
                        job=job,
                        slices=cell,
                        slice_key=slice_key(cell),
                        method="opa",
                        metric=metric,
                        parts={},
                        **_score_fields(value, 400, proportion=metric != "margin"),
                    )
                )
    Score.objects.bulk_create(scores, batch_size=5000)
    return jobs


def _dvb_release():
    """Users in one birth country per region, three items each."""
    release = _release("divervalue", "load-dvb-1")
    demographics = {
        "age": "25-34 years old",
        "gender": "Female",
        "education": "University",
        "marital_status": "Single",
    }
    _items(
        release,
        [
            (
                f"u{u}-{i}",
                {"birth_country": country, "region": region, **demographics},
                {
                    "user_id": f"u{u}",
                    "question": f"Question {i} of user {u}?",
                    "answer_w": "An answer this user prefers.",
                    "answer_l": "An answer this user dislikes.",
                    "split": "test",
                    **demographics,
                    "employment_status": "Working full-time",
                },
            )
            for u, (country, region) in enumerate(DVB_COUNTRIES.items())
            for i in range(3)
        ],
    )
    return release


def fill(count: int) -> str:
    models = make_models(count)
    navab = fill_navab(models)
    dvb = fill_dvb(models)
    return (
        f"{count} models; scores: {30 * len(navab)} NaVAB (2 jobs a model), "
        f"{len(dvb) * (1 + 2 * len(DVB_COUNTRIES)) * len(DVB_METRICS)} DiverValue-Bench"
    )


def fill_samples(jobs: list, items: list[tuple[int, str]], methods: tuple[str, ...]) -> int:
    """Per job, a per-example result per item (id, uid) and method, shaped as the harnesses
    store them (OPA: the item's outcome at each threshold; MC/AJ: the letters'
    log-likelihoods)."""
    from leaderboard.evals.models import SampleResult

    written = 0
    for index, job in enumerate(jobs):
        rows = []
        for i, (item_id, _uid) in enumerate(items):
            value = _value(index, i)
            for method in methods:
                rows.append(
                    SampleResult(
                        job=job,
                        item_id=item_id,
                        method=method,
                        value=4 * value - 2 if method == "opa" else float(value > 0.5),
                        correct=value > 0.5,
                        chosen="answer_w" if method == "opa" else "A",
                        parts={} if method == "opa" else {"half": "pos" if i % 2 else "neg"},
                        details=_details(method, value),
                    )
                )
        SampleResult.objects.bulk_create(rows, batch_size=5000)
        written += len(rows)
    return written


def _details(method: str, value: float) -> dict[str, object]:
    if method == "opa":
        margin = 4 * value - 2
        acc = {f"acc_{d:g}": float(margin > d) for d in (0, 0.2, 2, 4, 6, 8)}
        return {"outcome": {"margin": margin, **acc, "opa": sum(acc.values()) / 6}}
    return {"loglikelihoods": {"A": -1.0 - value, "B": -1.5 + value}}
