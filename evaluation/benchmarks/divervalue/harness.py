"""`evaluate`: OPA of a model on a DiverValue-Bench release, through lm-eval.

The log-likelihoods come from lm-eval's evaluator running the exported `divervalue_opa` task
(with samples logged), so a stock `lm_eval` run of the same export computes the same per-item
numbers; this adds the slices and the intervals, which resample users because one user's items
are not independent.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from evaluation import repro
from evaluation.benchmarks.divervalue.lm_eval_tasks import TASK, export_tasks
from evaluation.benchmarks.divervalue.lm_eval_utils import item_outcome
from evaluation.benchmarks.divervalue.regions import unmapped
from evaluation.benchmarks.divervalue.release import ITEMS_FILE, select_items
from evaluation.benchmarks.divervalue.results import (
    OVERALL,
    DiverValueResult,
    ItemMargin,
    SliceScore,
)
from evaluation.benchmarks.intervals import metric_intervals
from evaluation.context import left_out_counts
from evaluation.errors import SetupError
from evaluation.lm_eval_runner import Progress, load_lm, run_tasks
from evaluation.release import sha256_file
from evaluation.results import ProgressEvent
from evaluation.spec import ModelSpec
from evaluation.stats import cell_seed

if TYPE_CHECKING:
    from evaluation.benchmarks.divervalue.definition import DiverValueBench


def _items_from_samples(
    samples: Sequence[dict[str, Any]], dimensions: Sequence[str]
) -> list[ItemMargin]:
    items = []
    for sample in samples:
        doc = sample["doc"]
        ll_w, ll_l = (float(resp[0]) for resp in sample["filtered_resps"])
        n_w, n_l = int(doc["n_tokens_w"]), int(doc["n_tokens_l"])
        items.append(
            ItemMargin(
                uid=doc["uid"],
                user_id=doc["user_id"],
                split=doc["split"],
                slices={key: doc[key] for key in dimensions},
                loglikelihood_w=ll_w,
                loglikelihood_l=ll_l,
                n_tokens_w=n_w,
                n_tokens_l=n_l,
                outcome=item_outcome(ll_w, n_w, ll_l, n_l),
            )
        )
    return sorted(items, key=lambda item: item.uid)


class Scored(Protocol):
    """An item's per-item outcome under one method (OPA's margins, PAA's verdicts)."""

    @property
    def user_id(self) -> str: ...
    @property
    def slices(self) -> dict[str, str]: ...
    @property
    def outcome(self) -> dict[str, float]: ...


def score_slices(
    items: Sequence[Scored], benchmark: DiverValueBench, seed: int, method: str = "opa"
) -> list[SliceScore]:
    """Every metric `method` declares over all items and over each value of each slice
    dimension, each with an interval that resamples users."""
    cells: dict[tuple[str, str], list[Scored]] = defaultdict(list)
    min_n = {OVERALL: 1}
    for item in items:
        cells[(OVERALL, OVERALL)].append(item)
    for dimension in benchmark.slices:
        min_n[dimension.key] = dimension.min_n
        for item in items:
            cells[(dimension.key, item.slices[dimension.key])].append(item)
    rows = []
    metrics = benchmark.method(method).metrics
    for (key, value), members in cells.items():
        users = [item.user_id for item in members]
        columns = [[item.outcome[metric.key] for item in members] for metric in metrics]
        # One seed per cell: its metrics share the resampled users (one draw, not one each).
        intervals = metric_intervals(metrics, columns, cell_seed(seed, key, value), users)
        for metric, values, (low, high) in zip(metrics, columns, intervals, strict=True):
            rows.append(
                SliceScore(
                    method=method,
                    dimension=key,
                    value=value,
                    metric=metric.key,
                    mean=sum(values) / len(values),
                    n=len(values),
                    n_users=len(set(users)),
                    ci_low=low,
                    ci_high=high,
                    # One user's items have no interval (users are resampled): not ranked.
                    ranked=len(values) >= min_n[key] and len(set(users)) > 1,
                )
            )
    return rows


def evaluate(
    spec: ModelSpec,
    release_dir: Path,
    *,
    benchmark: DiverValueBench | None = None,
    methods: Sequence[str] | None = None,
    splits: Sequence[str] | None = None,
    seed: int = 1234,
    device: str = "auto",
    limit: int | None = None,
    out_dir: Path | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
) -> DiverValueResult:
    """OPA of `spec` on the items of `splits` (default: DVB-test where the release has it).

    The model is scored without a chat template whatever `spec` says, as published. With
    `out_dir`, the task is exported to `out_dir/tasks` and the results written there.
    """
    from evaluation.benchmarks import get_benchmark

    # Through the registry: the definition imports this harness for its operations.
    benchmark = benchmark or cast("DiverValueBench", get_benchmark("divervalue"))
    if methods and set(methods) != {"opa"}:
        raise SetupError("DiverValue-Bench's harness computes OPA only; PAA is judged separately")
    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    release_dir = Path(release_dir).resolve()
    items = select_items(release_dir, splits=splits, limit=limit)
    spec = dataclasses.replace(spec, apply_chat_template=False)
    run_device = repro.resolve_device(device, spec)
    tracker = Progress(total=2 * len(items), callback=progress)
    with ExitStack() as stack:
        if out_dir is None:
            tasks_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dvb-")))
        else:
            tasks_dir = Path(out_dir).resolve() / "tasks"
        export_tasks(items, tasks_dir)
        tracker.start("loading model")
        lm = load_lm(spec, run_device)
        tracker.attach(lm)
        tracker.start("opa")
        samples = run_tasks(lm, spec, [TASK], tasks_dir, seed, metadata=spec.to_lm_eval_args())
        tracker.finish_stage(2 * len(items))
    dimensions = [d.key for d in benchmark.slices]
    margins = _items_from_samples(samples[TASK], dimensions)
    tracker.start("scoring")
    out: Path | str = Path(out_dir).resolve() if out_dir is not None else "OUT_DIR"
    items_file = release_dir / ITEMS_FILE
    card = {
        "benchmark": benchmark.slug,
        "model": spec.to_dict(),
        "release": {
            "path": str(release_dir),
            "items_sha256": sha256_file(items_file) if items_file.exists() else None,
        },
        "splits": sorted({item.split for item in margins}),
        "n_items": len(margins),
        "seed": seed,
        "device": run_device,
        "limit": limit,
        "chat_template": False,
        "versions": repro.versions(spec),
        "lm_eval_command": repro.lm_eval_command(
            spec, [TASK], f"{out}/tasks", f"{out}/lm_eval", seed=seed, device=run_device
        ),
        "started_at": started_at,
        "duration_s": round(time.monotonic() - started, 3),
        "too_long": left_out_counts({"opa": samples.too_long}, benchmark),
    }
    result = DiverValueResult(
        scores=score_slices(margins, benchmark, seed),
        items=margins,
        card=card,
        other_countries=unmapped(item.slices["birth_country"] for item in margins),
    )
    if out_dir is not None:
        result.write(Path(out_dir))
    tracker.finish()
    return result
