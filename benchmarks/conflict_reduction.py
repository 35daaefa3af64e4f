"""Conflict Reduction cost vs number of statements (1k, 10k, 100k): near-linear, by blocking.

Synthetic statements mimic a pipeline run: five nations, topics of about `--per-topic`
statements each (sizes vary), each topic made of a few "issues" (random unit centres in 384
dimensions, the MiniLM width) with statements scattered around them, and random +1/-1 stances.
The number of topics grows with the corpus, as topic modelling does, so blocks stay bounded
and the total cost grows about linearly. Prints time, time per statement and the 100k/10k
growth ratio (10.0 would be exactly linear; an all-pairs method would give about 100).

    .venv/bin/python benchmarks/conflict_reduction.py [--sizes 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from pipeline.config import ConflictParams
from pipeline.conflict import Statement, reduce_conflicts

DIM = 384
NATIONS = ("cn", "us", "uk", "fr", "de")
ISSUES_PER_TOPIC = 3
# Per-dimension noise: two statements around one issue centre have cosine ~ 1 / (1 + DIM s^2)
# (about 0.8 here), so they join at the default threshold 0.75 and different issues do not.
NOISE = 0.025


def synthetic(n: int, per_topic: int, seed: int) -> tuple[list[Statement], np.ndarray]:
    rng = np.random.default_rng(seed)
    topics = max(1, n // per_topic)
    # Uneven topic sizes, like real news: a Dirichlet split of n.
    sizes = rng.multinomial(n, rng.dirichlet(np.full(topics, 2.0)))
    vectors = np.empty((n, DIM), dtype=np.float32)
    statements: list[Statement] = []
    row = 0
    for topic, size in enumerate(sizes):
        centres = rng.normal(size=(ISSUES_PER_TOPIC, DIM))
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        issue = rng.integers(0, ISSUES_PER_TOPIC, size=size)
        points = centres[issue] + rng.normal(scale=NOISE, size=(size, DIM))
        vectors[row : row + size] = points / np.linalg.norm(points, axis=1, keepdims=True)
        block = (NATIONS[topic % len(NATIONS)], f"t{topic}")
        statements.extend(
            Statement(f"s{row + i}", block, int(rng.choice((-1, 1)))) for i in range(size)
        )
        row += size
    return statements, vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--per-topic", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    params = ConflictParams()
    print(f"threshold={params.similarity_threshold} per_topic~{args.per_topic} dim={DIM}")
    print(
        f"{'statements':>10} {'blocks':>7} {'edges':>10} {'dropped':>8} {'seconds':>8} {'us/stmt':>8}"
    )
    timings: dict[int, float] = {}
    for n in args.sizes:
        statements, vectors = synthetic(n, args.per_topic, args.seed)
        start = time.perf_counter()
        result = reduce_conflicts(statements, vectors, params)
        seconds = time.perf_counter() - start
        timings[n] = seconds
        blocks = len({s.block for s in statements})
        print(
            f"{n:>10} {blocks:>7} {result.edges:>10} {len(result.dropped):>8} "
            f"{seconds:>8.2f} {seconds / n * 1e6:>8.1f}"
        )
    sizes = sorted(timings)
    for small, large in itertools.pairwise(sizes):
        ratio = timings[large] / timings[small]
        print(
            f"growth {large}/{small}: x{large / small:.0f} statements -> x{ratio:.1f} time "
            f"(linear = x{large / small:.0f}, quadratic = x{(large / small) ** 2:.0f})"
        )


if __name__ == "__main__":
    main()
