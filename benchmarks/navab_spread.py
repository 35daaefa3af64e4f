"""The cold NaVAB board's rank spread when every ranked model has per-item results on the full
release (63,400 triples): what scale.py's state leaves out, since writing 189,000 result rows a
model for hundreds of models takes hours. Run on a state scale.py kept (`--keep`), in process:

    DATABASE_URL=postgres://…/<a copy of the kept database> NAVAB_VAR_DIR=<a copy of the kept
    folder> DJANGO_SETTINGS_MODULE=leaderboard.settings \\
        .venv/bin/python benchmarks/navab_spread.py [--models 200]

It gives the first MODELS ranked NaVAB jobs packed MC values (`JobItemValues`, 0 or 1 per
triple, as a full run packs them) and rewrites their MC cell scores to what those values give,
so that the rank spread is drawn rather than refused; then times a cold board (each cached
board made stale and the cache cleared), with its parts. It changes the database: run it on a
copy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def give_values(models: int) -> int:
    """Packed MC values for the first MODELS ranked jobs, their cell scores rewritten to match;
    the number of jobs given them."""
    import numpy as np
    from django.db import connection, transaction

    from evaluation.results import slice_key
    from leaderboard.catalog.models import DatasetRelease
    from leaderboard.evals import item_values
    from leaderboard.evals.models import JobItemValues, LanguageModel, Score

    release = DatasetRelease.objects.get(version="scale-navab")
    jobs = sorted(m.latest_job_id for m in LanguageModel.objects.on_release(release))[:models]
    items = list(release.items.order_by("id").values_list("id", "slices__nation", "slices__mode"))
    ids = np.asarray([i for i, _, _ in items], dtype=np.int64)
    positions: dict[str, list[int]] = {}
    for position, (_, nation, mode) in enumerate(items):
        positions.setdefault(slice_key({"nation": nation, "mode": mode}), []).append(position)
    cells = {key: np.asarray(at) for key, at in positions.items()}
    rng = np.random.default_rng(20)
    with transaction.atomic():
        JobItemValues.objects.filter(job_id__in=jobs, method="mc").delete()
        for index, job_id in enumerate(jobs):
            skill = 0.45 + 0.3 * index / max(1, len(jobs) - 1)
            values = (rng.random(len(ids)) < skill).astype(np.float64)
            packed = item_values.pack(
                (int(i), "mc", float(v), {}) for i, v in zip(ids, values, strict=True)
            )
            items_bytes, values_bytes = packed[("mc", item_values.VALUE)]
            JobItemValues.objects.create(
                job_id=job_id, method="mc", metric="", items=items_bytes, values=values_bytes
            )
            for key, at in cells.items():
                Score.objects.filter(
                    job_id=job_id, method="mc", metric="acc", slice_key=key
                ).update(value=float(values[at].mean()), n=len(at))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return len(jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=1000, help="at most this many models")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.cache import cache

    from leaderboard.boards import queries
    from leaderboard.boards.cache import invalidate_boards
    from leaderboard.catalog.models import DatasetRelease

    given = give_values(args.models)
    release = DatasetRelease.objects.get(version="scale-navab")
    spent: dict[str, list[float]] = {"board": [], "rank spread": []}
    spread = queries.rank_spread

    def timed_spread(*a: object, **k: object) -> object:
        began = time.perf_counter()
        try:
            return spread(*a, **k)  # type: ignore[arg-type]
        finally:
            spent["rank spread"].append(time.perf_counter() - began)

    queries.rank_spread = timed_spread  # type: ignore[assignment]
    note = ""
    for _ in range(args.repeats):
        invalidate_boards()
        cache.clear()
        began = time.perf_counter()
        board = queries.build_board(queries.BoardQuery(release=release))
        spent["board"].append(time.perf_counter() - began)
        note = board.rank_spread_note
    ranged = sum(1 for row in board.ranked if row.rank_best is not None)
    print(f"NaVAB board, {given} models with per-item MC values on 63,400 triples "
          f"({ranged} of {len(board.ranked)} ranked rows with a rank range{'; ' + note if note else ''})")  # fmt: skip
    for part, times in spent.items():
        print(f"  cold {part:<12} median {statistics.median(times) * 1000:6.0f} ms, "
              f"max {max(times) * 1000:6.0f} ms over {len(times)}")  # fmt: skip


if __name__ == "__main__":
    main()
