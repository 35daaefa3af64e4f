"""Per-item values for scale.py's models, as a full run stores them for rank spreads, with the
scores they give: without them every board refuses its rank spread and its time says nothing
of the spread's cost.

`scale.py` writes per-example rows (`SampleResult`) for a few jobs only: 189,000 NaVAB rows a
model for a thousand models would take hours. A board's rank spread reads none of those; it
reads each job's values packed in one row per method and metric (`JobItemValues`), and checks
that they give back the job's stored cell scores. So every newest job gets packed values here
(NaVAB MC and AJ: 0 or 1 on each of the 63,400 triples; DiverValue-Bench OPA: a share of six
thresholds, beside its margin, on the DVB-test items), drawn around a skill that grows with the
model's index, and its cells' scores of those metrics are rewritten to the values' means and
counts (NaVAB nation x mode; DiverValue-Bench overall, each region and each country).
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

#: the methods a board ranks per benchmark, with the metric their scores give
METHODS = {"navab": (("mc", "acc"), ("aj", "acc")), "divervalue": (("opa", "opa"),)}
#: the metrics whose scores are rewritten (DiverValue-Bench's margin: each OPA item's value)
SCORED = {"navab": ("acc",), "divervalue": ("opa", "margin")}


def give_values(slug: str, jobs: list[int], first_index: int, total: int) -> None:
    """Packed values of SLUG's ranked methods for JOBS (the newest of models FIRST_INDEX on, of
    TOTAL), their cell scores rewritten to match."""
    from django.db import transaction

    from evaluation.results import slice_key
    from leaderboard.boards.models import RankReplicates
    from leaderboard.catalog.models import DatasetRelease
    from leaderboard.evals import item_values
    from leaderboard.evals.models import JobItemValues, Score

    release = DatasetRelease.objects.get(version=f"scale-{slug}")
    chosen = release.items.order_by("id")
    if slug == "divervalue":
        chosen = chosen.filter(data__split="test")
    items = list(chosen.values_list("id", "slices"))
    ids = np.asarray([i for i, _ in items], dtype=np.int64)
    id_bytes = np.diff(ids, prepend=0).astype("<i8").tobytes()
    positions: dict[str, list[int]] = {}
    for position, (_, slices) in enumerate(items):
        if slug == "navab":
            keys = [slice_key({"nation": slices.get("nation"), "mode": slices.get("mode")})]
        else:
            keys = [slice_key({})] + [
                slice_key({k: str(v)})
                for k, v in slices.items()
                if k in ("region", "birth_country")
            ]
        for key in keys:
            positions.setdefault(key, []).append(position)
    cells = {key: np.asarray(at) for key, at in positions.items()}
    rng = np.random.default_rng(20 + first_index)
    with transaction.atomic():
        JobItemValues.objects.filter(job_id__in=jobs).delete()
        RankReplicates.objects.filter(job_id__in=jobs).delete()  # drawn from the old values
        for offset, job_id in enumerate(tqdm(jobs, desc=f"{slug} values", file=sys.stderr)):
            skill = 0.45 + 0.3 * (first_index + offset) / max(1, total - 1)
            rows = []
            means: dict[tuple[str, str], np.ndarray] = {}
            for method, metric in METHODS[slug]:
                if slug == "navab":
                    # 0 or 1: packed as `item_values.pack` packs a value and no outcome.
                    values = (rng.random(len(ids)) < skill).astype("<f8")
                    rows.append(JobItemValues(job_id=job_id, method=method, metric="",
                                              items=id_bytes, values=values.tobytes()))  # fmt: skip
                else:  # OPA: the share of six thresholds a margin clears, packed beside it
                    values = np.clip(np.round(rng.normal(skill, 0.3, len(ids)) * 6), 0, 6) / 6
                    packed = item_values.pack(
                        (int(i), method, float(4 * v - 2), {"outcome": {metric: float(v)}})
                        for i, v in zip(ids, values, strict=True)
                    )
                    rows += [
                        JobItemValues(job_id=job_id, method=m, metric=k, items=a, values=b)
                        for (m, k), (a, b) in packed.items()
                    ]
                    means[(method, "margin")] = 4 * values - 2  # each item's own value
                means[(method, metric)] = values
            JobItemValues.objects.bulk_create(rows)
            scores = list(
                Score.objects.filter(
                    job_id=job_id,
                    slice_key__in=list(cells),
                    method__in=[m for m, _ in METHODS[slug]],
                    metric__in=SCORED[slug],
                )
            )
            for score in scores:
                drawn = means.get((score.method, score.metric))
                if drawn is not None:
                    at = cells[score.slice_key]
                    score.value, score.n = float(drawn[at].mean()), len(at)
            Score.objects.bulk_update(scores, ["value", "n"], batch_size=1000)


def give_all() -> None:
    """`give_values` for every model's newest job on both scale releases."""
    from leaderboard.catalog.models import DatasetRelease
    from leaderboard.evals.models import LanguageModel

    for slug in METHODS:
        release = DatasetRelease.objects.get(version=f"scale-{slug}")
        models = LanguageModel.objects.on_release(release)
        jobs = sorted(m.latest_job_id for m in models)  # type: ignore[attr-defined]
        give_values(slug, jobs, 0, len(jobs))


@dataclass
class Drawn:
    """What drawing rank replicates costs: every ranked job's on the first board view after
    the fill (the state of a site upgraded with results already stored), and one more job's
    on the worker that publishes it."""

    every_s: dict[str, float]
    one_job_s: dict[str, float]
    #: the cold default board when its ranked jobs changed (a job was published): every
    #: job's replicates read and ranked again, no stored ranges; median of three, in process
    ranked_again_s: dict[str, float]


def time_draws() -> Drawn:
    """Each benchmark's default board built with no replicates stored (cold), then one job's
    replicates drawn as publishing draws them; in this process."""
    from django.core.cache import cache

    from leaderboard.boards import queries, rank_replicates
    from leaderboard.boards.cache import invalidate_boards
    from leaderboard.boards.models import RankRanges, RankReplicates
    from leaderboard.catalog.models import DatasetRelease
    from leaderboard.evals.models import EvaluationJob

    found = Drawn({}, {}, {})
    for slug in METHODS:
        release = DatasetRelease.objects.get(version=f"scale-{slug}")
        RankReplicates.objects.filter(cell__release=release).delete()
        RankRanges.objects.all().delete()  # ranked on what was just deleted
        invalidate_boards()
        cache.clear()
        began = time.perf_counter()
        board = queries.build_board(queries.BoardQuery(release=release))
        found.every_s[slug] = time.perf_counter() - began
        if board.rank_spread_note:
            raise SystemExit(f"{slug}: the board drew no rank spread: {board.rank_spread_note}")
        last = max(row.job_id for row in board.ranked)
        RankReplicates.objects.filter(job_id=last).delete()
        began = time.perf_counter()
        rank_replicates.publish(EvaluationJob.objects.get(pk=last))
        found.one_job_s[slug] = time.perf_counter() - began
        times = []
        for _ in range(3):
            RankRanges.objects.all().delete()
            invalidate_boards()
            cache.clear()
            began = time.perf_counter()
            queries.build_board(queries.BoardQuery(release=release))
            times.append(time.perf_counter() - began)
        found.ranked_again_s[slug] = statistics.median(times)
    return found
