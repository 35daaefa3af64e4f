"""The cold board's rank spread when every ranked model has per-item results of the board's
metric and they give back its cell scores, on either full release: what scale.py's state leaves
out (it writes NaVAB per-item results for two models, 189,000 rows a model taking hours for
hundreds; and its DiverValue-Bench scores are not the means of its per-item values, so the
boards refuse the spread after reading them). Run on a state scale.py kept (`--keep`):

    DATABASE_URL=postgres://…/<a copy of the kept database> NAVAB_VAR_DIR=<a copy of the kept
    folder> DJANGO_SETTINGS_MODULE=leaderboard.settings \\
        .venv/bin/python benchmarks/rank_spread_cost.py [--models 1000]

For each benchmark it gives the ranked jobs (at most MODELS) packed per-item values as a full run
packs them (`JobItemValues`: NaVAB MC 0 or 1 on all 63,400 triples; DiverValue-Bench OPA in
sixths and its margin on the DVB-test items), rewrites their default board's cell scores to what
those values give, then times the cold default board (each cached board made stale and the
cache cleared) and its rank spread, in process. It changes the database: run it on a copy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def give_values(slug: str, models: int) -> int:
    """Packed values of the board's method for the ranked jobs of SLUG's scale release (at
    most MODELS), their cells' scores of the board's metric rewritten to match; how many jobs."""
    import numpy as np
    from django.db import connection, transaction

    from evaluation.benchmarks import get_benchmark
    from evaluation.results import slice_key
    from leaderboard.boards.models import RankReplicates
    from leaderboard.catalog.models import DatasetRelease
    from leaderboard.evals import item_values
    from leaderboard.evals.models import JobItemValues, LanguageModel, Score

    release = DatasetRelease.objects.get(version=f"scale-{slug}")
    declared = get_benchmark(slug)
    method = declared.methods[0]
    jobs = sorted(m.latest_job_id for m in LanguageModel.objects.on_release(release))[:models]
    chosen = release.items.order_by("id")
    if slug == "divervalue":
        chosen = chosen.filter(data__split="test")
    items = list(chosen.values_list("id", "slices"))
    ids = np.asarray([i for i, _ in items], dtype=np.int64)
    # The cells a default board reads: NaVAB's nation x mode; DiverValue-Bench's overall and
    # each region and country (the region and country boards').
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
    rng = np.random.default_rng(20)
    with transaction.atomic():
        JobItemValues.objects.filter(job_id__in=jobs, method=method.key).delete()
        RankReplicates.objects.filter(job_id__in=jobs).delete()  # drawn from the old values
        for index, job_id in enumerate(tqdm(jobs, desc=f"{slug} values", file=sys.stderr)):
            skill = 0.45 + 0.3 * index / max(1, len(jobs) - 1)
            if slug == "navab":
                values = (rng.random(len(ids)) < skill).astype(np.float64)
                results = (
                    (int(i), method.key, float(v), {}) for i, v in zip(ids, values, strict=True)
                )
            else:  # OPA: the share of six thresholds a margin clears, packed beside it
                values = np.clip(np.round(rng.normal(skill, 0.3, len(ids)) * 6), 0, 6) / 6
                results = (
                    (int(i), method.key, float(4 * v - 2), {"outcome": {method.primary: float(v)}})
                    for i, v in zip(ids, values, strict=True)
                )
            for (packed_method, metric), (packed_ids, packed_values) in item_values.pack(
                results
            ).items():
                JobItemValues.objects.create(
                    job_id=job_id, method=packed_method, metric=metric, items=packed_ids,
                    values=packed_values,
                )  # fmt: skip
            for key, at in cells.items():
                Score.objects.filter(
                    job_id=job_id, method=method.key, metric=method.primary, slice_key=key
                ).update(value=float(values[at].mean()), n=len(at))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return len(jobs)


def time_board(slug: str, given: int, repeats: int) -> None:
    """The cold default board: first when every ranked job's replicates are drawn (the first
    view after the values were given), then REPEATS times with them stored, as a live site
    serves it; and what publishing one more job costs its worker (`rank_replicates.publish`)."""
    from django.core.cache import cache

    from leaderboard.boards import queries, rank_replicates
    from leaderboard.boards.cache import invalidate_boards
    from leaderboard.boards.models import RankReplicates
    from leaderboard.catalog.models import DatasetRelease
    from leaderboard.evals.models import EvaluationJob

    release = DatasetRelease.objects.get(version=f"scale-{slug}")
    spent: dict[str, list[float]] = {"board": [], "rank spread": []}
    drawn: dict[str, float] = {}
    spread = queries.rank_spread

    def timed_spread(*a: object, **k: object) -> object:
        began = time.perf_counter()
        try:
            return spread(*a, **k)  # type: ignore[arg-type]
        finally:
            spent["rank spread"].append(time.perf_counter() - began)

    queries.rank_spread = timed_spread  # type: ignore[assignment]
    try:
        for repeat in range(repeats + 1):
            invalidate_boards()
            cache.clear()
            began = time.perf_counter()
            board = queries.build_board(queries.BoardQuery(release=release))
            spent["board"].append(time.perf_counter() - began)
            if not repeat:  # every job's replicates drawn
                drawn = {part: times.pop() for part, times in spent.items()}
    finally:
        queries.rank_spread = spread
    last = max(row.job_id for row in board.ranked)
    RankReplicates.objects.filter(job_id=last).delete()
    began = time.perf_counter()
    rank_replicates.publish(EvaluationJob.objects.get(pk=last))
    published = time.perf_counter() - began
    ranged = sum(1 for row in board.ranked if row.rank_best is not None)
    note = f"; {board.rank_spread_note}" if board.rank_spread_note else ""
    print(f"{slug} default board, {given} models given per-item values "
          f"({ranged} of {len(board.ranked)} ranked rows with a rank range{note})")  # fmt: skip
    for part, times in spent.items():
        print(f"  cold {part:<12} median {statistics.median(times) * 1000:6.0f} ms, "
              f"max {max(times) * 1000:6.0f} ms over {len(times)}, replicates stored; "
              f"{drawn[part] * 1000:.0f} ms drawing every job's")  # fmt: skip
    print(f"  publishing one more job: its replicates drawn in {published * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=1000, help="at most this many models")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--benchmarks", default="navab,divervalue")
    args = parser.parse_args()

    import django

    django.setup()
    for slug in args.benchmarks.split(","):
        given = give_values(slug, args.models)
        time_board(slug, given, args.repeats)


if __name__ == "__main__":
    main()
