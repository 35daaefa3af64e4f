"""Harness overhead: the site's harness against stock lm-eval on the same exported tasks.

In one process, on the same synthetic release, model, batch size, dtype and device, each
method is timed twice:

- harness: what a worker does, `benchmark.evaluate(...)` through the registry (export, lm-eval,
  per-item records, sub-metrics, intervals) and `result.write(...)`;
- lm-eval: `lm_eval.simple_evaluate` with the model named as the stock CLI names it, on the
  tasks `python -m evaluation export-tasks` wrote (exported beforehand, not timed), with
  samples logged and saved by lm-eval's own `EvaluationTracker`, as `lm_eval run
  --log_samples --output_path` does. AJ runs both of its stages (answers, then the judge on
  tasks exported with those answers; that export is not timed either).

Printed per method: wall and CPU seconds and items/s of each side and their ratios (harness /
lm-eval; CPU time is this process's, so other load on a shared machine shows in wall time
only); the goal is at most 1.10 on >= 10,000 items, where scoring dominates. The run fails if
any item's log-likelihoods differ between the two sides. CPU, tiny model, one torch thread:

    .venv/bin/python benchmarks/harness_overhead.py --items 10000

`--profile N` prints the harness's N most expensive functions (cProfile, cumulative) for the
last method, to see where the time beyond lm-eval goes.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")

from benchmarks.synthetic import divervalue_release, navab_release  # noqa: E402
from evaluation.benchmarks import get_benchmark  # noqa: E402
from evaluation.spec import ModelSpec  # noqa: E402

METHODS = ("navab:mc", "navab:aj", "divervalue:opa")
GOAL = 1.10


def stock_loglikelihoods(samples: dict[str, list[dict[str, Any]]]) -> dict[str, list[float]]:
    return {
        sample["doc"]["uid"]: [float(resp[0]) for resp in sample["filtered_resps"]]
        for task in samples.values()
        for sample in task
    }


def stock_run(spec: ModelSpec, tasks: list[str], tasks_dir: Path, out: Path, args: Any) -> Any:
    """One stock run, as `lm_eval run --log_samples --output_path OUT` makes it."""
    import lm_eval
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager

    model_args = spec.to_lm_eval_args()
    tracker = EvaluationTracker(output_path=str(out))
    results = lm_eval.simple_evaluate(
        model=spec.lm_eval_model,
        model_args=spec.model_args_string(),
        tasks=tasks,
        batch_size=spec.batch_size,
        device=args.device,
        log_samples=True,
        evaluation_tracker=tracker,
        task_manager=TaskManager(
            include_path=str(tasks_dir), include_defaults=False, metadata=model_args
        ),
        random_seed=args.seed,
        numpy_random_seed=args.seed,
        torch_random_seed=args.seed,
        fewshot_random_seed=args.seed,
        metadata=model_args,
    )
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    for name in results["configs"]:
        tracker.save_results_samples(task_name=name, samples=samples[name])
    return samples


class Clock:
    """Wall and CPU seconds over the timed stretches (CPU time of this process, all threads:
    on a shared machine other processes' load shows in wall time only), and the per-item
    log-likelihoods the run scored (uid -> one per choice), to check both sides agree."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0
        self.loglikelihoods: dict[str, list[float]] = {}
        self._started = (0.0, 0.0)

    def start(self) -> None:
        self._started = (time.perf_counter(), time.process_time())

    def stop(self) -> None:
        self.wall += time.perf_counter() - self._started[0]
        self.cpu += time.process_time() - self._started[1]


def stock(slug: str, method: str, spec: ModelSpec, release: Path, work: Path, args: Any) -> Clock:
    """The stock lm-eval runs of `method` (the exports before them are not timed)."""
    benchmark = get_benchmark(slug)
    options = {"methods": [method], "max_gen_toks": args.max_gen_toks}
    tasks_dir = work / "stock-tasks"
    names = benchmark.export_tasks(release, tasks_dir, **options)
    clock = Clock()
    clock.start()
    if method != "aj":
        samples = stock_run(spec, names, tasks_dir, work / "stock-out", args)
        clock.stop()
        clock.loglikelihoods = stock_loglikelihoods(samples)
        return clock
    gen = [n for n in names if n.startswith("navab_aj_gen_")]
    samples = stock_run(spec, gen, tasks_dir, work / "stock-out-gen", args)
    clock.stop()
    answers = work / "stock-answers.jsonl"
    with answers.open("w", encoding="utf-8") as handle:
        for task in samples.values():
            for sample in task:
                answer = str(sample["filtered_resps"][0]).strip()
                handle.write(json.dumps({"uid": sample["doc"]["uid"], "answer": answer}) + "\n")
    names = benchmark.export_tasks(release, tasks_dir, **options, answers=answers)
    judge = [n for n in names if n.startswith("navab_aj_") and n not in gen]
    clock.start()
    samples = stock_run(spec, judge, tasks_dir, work / "stock-out-judge", args)
    clock.stop()
    clock.loglikelihoods = stock_loglikelihoods(samples)
    return clock


def harness(slug: str, method: str, spec: ModelSpec, release: Path, work: Path, args: Any) -> Clock:
    """A worker's run: evaluate through the registry, then write the results."""
    benchmark = get_benchmark(slug)
    events = 0

    def progress(_: object) -> None:
        nonlocal events  # a worker reports every event; count them so the callback runs
        events += 1

    clock = Clock()
    clock.start()
    result = benchmark.evaluate(
        spec,
        release,
        methods=[method],
        seed=args.seed,
        device=args.device,
        max_gen_toks=args.max_gen_toks,
        progress=progress,
    )
    result.write(work / "harness-out")
    clock.stop()
    clock.loglikelihoods = {
        sample.uid: list(sample.details["loglikelihoods"].values()) for sample in result.samples
    }
    return clock


def warm_up(spec: ModelSpec, work: Path, args: Any) -> None:
    """Imports and first-use costs (torch, transformers, datasets, lm-eval's registries) paid
    once, untimed, by a small run of each side: otherwise whichever side runs first pays them."""
    release = navab_release(work / "warm-up", 20)
    for run in (stock, harness):
        run("navab", "mc", spec, release, work / "warm-up-run", args)


def timed_profile(run: Callable[[], Clock], top: int) -> Clock:
    profiler = cProfile.Profile()
    elapsed = profiler.runcall(run)
    stats = pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative")
    # The harness's own code only: lm-eval's share is what the stock side spends too.
    stats.print_stats(r"/(evaluation|benchmarks)/", top)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000, help="items per benchmark")
    parser.add_argument("--methods", default=",".join(METHODS), help="benchmark:method,...")
    parser.add_argument("--model", type=Path, help="model directory (default: a tiny GPT-2)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--max-gen-toks", type=int, default=8, help="AJ answer length")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (both sides)")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    chosen = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(chosen) - set(METHODS))
    if unknown or args.items < 10:
        parser.error(f"methods are {', '.join(METHODS)}; --items at least 10 (got {unknown})")

    import torch

    # One thread by default: on a shared machine extra threads only add contention noise.
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="harness-overhead-") as tmp:
        work = Path(tmp)
        # Neither side may find the other's tokenized datasets in a shared cache.
        os.environ["HF_DATASETS_CACHE"] = str(work / "datasets-cache")
        model = args.model
        if model is None:
            from evaluation.tiny_models import build_tiny_model

            model = build_tiny_model(work / "tiny-gpt2")
        spec = ModelSpec(
            pretrained=str(Path(model).resolve()), dtype=args.dtype, batch_size=args.batch_size
        )
        warm_up(spec, work, args)
        releases = {
            "navab": navab_release(work / "navab", args.items),
            "divervalue": divervalue_release(work / "divervalue", args.items),
        }
        print(
            f"model {model} ({args.dtype}, batch {args.batch_size}, {args.device}); "
            f"{args.items} items per benchmark; AJ answers up to {args.max_gen_toks} tokens",
            flush=True,
        )
        totals = {"harness": Clock(), "stock": Clock()}
        for i, name in enumerate(chosen):
            slug, method = name.split(":")
            here = work / name.replace(":", "-")
            # Stock first on one method, harness first on the next: neither always runs cold.
            order = ("stock", "harness") if i % 2 == 0 else ("harness", "stock")
            clocks: dict[str, Clock] = {}
            for side in order:
                run = stock if side == "stock" else harness
                call = partial(run, slug, method, spec, releases[slug], here, args)
                profiled = args.profile and side == "harness" and i == len(chosen) - 1
                clocks[side] = timed_profile(call, args.profile) if profiled else call()
                totals[side].wall += clocks[side].wall
                totals[side].cpu += clocks[side].cpu
            print(report(name, args.items, clocks["harness"], clocks["stock"]), flush=True)
            ours, theirs = clocks["harness"].loglikelihoods, clocks["stock"].loglikelihoods
            if ours != theirs:
                differ = sum(ours.get(uid) != lls for uid, lls in theirs.items())
                sys.exit(f"{name}: {differ} of {len(theirs)} items scored differently by lm-eval")
    print(report("all methods", args.items * len(chosen), *totals.values()), flush=True)
    wall = totals["harness"].wall / totals["stock"].wall
    cpu = totals["harness"].cpu / totals["stock"].cpu
    verdict = "met" if max(wall, cpu) <= GOAL else "NOT met"
    print("per-item log-likelihoods: identical on both sides for every method")
    print(
        f"ratio (harness / lm-eval): wall {wall:.3f}, cpu {cpu:.3f}; goal <= {GOAL:.2f} {verdict}"
        + (" (profiled: the harness's times include cProfile's cost)" if args.profile else "")
    )
    return 0


def report(name: str, items: int, ours: Clock, theirs: Clock) -> str:
    return (
        f"{name:<15} harness {ours.wall:8.2f} s wall {ours.cpu:8.2f} s cpu "
        f"({items / ours.wall:7.1f} items/s) | lm-eval {theirs.wall:8.2f} s wall "
        f"{theirs.cpu:8.2f} s cpu ({items / theirs.wall:7.1f} items/s) | "
        f"wall {ours.wall / theirs.wall:.3f}x cpu {ours.cpu / theirs.cpu:.3f}x"
    )


if __name__ == "__main__":
    sys.exit(main())
