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
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from evaluation import repro
from evaluation.benchmarks.divervalue.lm_eval_tasks import TASK, export_tasks
from evaluation.benchmarks.divervalue.lm_eval_utils import item_outcome
from evaluation.benchmarks.divervalue.regions import unmapped
from evaluation.benchmarks.divervalue.release import release_card, select_items
from evaluation.benchmarks.divervalue.results import (
    OVERALL,
    DiverValueResult,
    ItemMargin,
    SliceScore,
)
from evaluation.benchmarks.intervals import metric_intervals
from evaluation.context import left_out_counts
from evaluation.errors import SetupError
from evaluation.lm_eval_runner import Progress, TaskSamples, load_lm, run_tasks
from evaluation.results import ProgressEvent
from evaluation.spec import ModelSpec
from evaluation.stats import cell_seed

if TYPE_CHECKING:
    from evaluation.benchmarks.divervalue.definition import DiverValueBench


@dataclass(frozen=True)
class SampleMargin:
    """One logged OPA sample as lm-eval returns it: its document, the summed log-likelihoods
    and token counts of answer_w and answer_l, and the item's OPA metrics."""

    doc: dict[str, Any]
    loglikelihood_w: float
    loglikelihood_l: float
    n_tokens_w: int
    n_tokens_l: int
    outcome: dict[str, float]

    @classmethod
    def of(cls, sample: Mapping[str, Any]) -> SampleMargin:
        doc = sample["doc"]
        ll_w, ll_l = (float(resp[0]) for resp in sample["filtered_resps"])
        n_w, n_l = int(doc["n_tokens_w"]), int(doc["n_tokens_l"])
        return cls(doc, ll_w, ll_l, n_w, n_l, item_outcome(ll_w, n_w, ll_l, n_l))


@dataclass(frozen=True)
class OpaRun:
    #: the model as scored: never with a chat template, as published
    spec: ModelSpec
    device: str
    #: one per scored document, sorted by uid
    margins: list[SampleMargin]
    samples: TaskSamples
    #: at the scoring stage, to be finished once the results are written
    tracker: Progress


def run_opa(
    spec: ModelSpec,
    task: str,
    export: Callable[[Path], object],
    n_items: int,
    *,
    seed: int,
    device: str,
    out_dir: Path | None,
    progress: Callable[[ProgressEvent], None] | None,
    prefix: str,
) -> OpaRun:
    """Score TASK's N_ITEMS documents, written by EXPORT into the tasks directory (`out_dir/
    tasks`, else a temporary one named PREFIX...): the one OPA run of DiverValue-Bench and of
    its out-of-domain set (`evaluation.benchmarks.ufp4`)."""
    spec = dataclasses.replace(spec, apply_chat_template=False)
    run_device = repro.resolve_device(device, spec)
    tracker = Progress(total=2 * n_items, callback=progress)
    with ExitStack() as stack:
        if out_dir is None:
            tasks_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix)))
        else:
            tasks_dir = Path(out_dir).resolve() / "tasks"
        export(tasks_dir)
        tracker.start("loading model")
        lm = load_lm(spec, run_device)
        tracker.attach(lm)
        tracker.start("opa")
        samples = run_tasks(lm, spec, [task], tasks_dir, seed, metadata=spec.to_lm_eval_args())
        tracker.finish_stage(2 * n_items)
    tracker.start("scoring")
    margins = sorted(
        (SampleMargin.of(sample) for sample in samples.get(task, [])),
        key=lambda margin: str(margin.doc["uid"]),
    )
    return OpaRun(spec, run_device, margins, samples, tracker)


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
    run = run_opa(
        spec,
        TASK,
        lambda tasks_dir: export_tasks(items, tasks_dir),
        len(items),
        seed=seed,
        device=device,
        out_dir=out_dir,
        progress=progress,
        prefix="dvb-",
    )
    spec, run_device = run.spec, run.device
    dimensions = [d.key for d in benchmark.slices]
    margins = [
        ItemMargin(
            uid=m.doc["uid"],
            user_id=m.doc["user_id"],
            split=m.doc["split"],
            slices={key: m.doc[key] for key in dimensions},
            loglikelihood_w=m.loglikelihood_w,
            loglikelihood_l=m.loglikelihood_l,
            n_tokens_w=m.n_tokens_w,
            n_tokens_l=m.n_tokens_l,
            outcome=m.outcome,
        )
        for m in run.margins
    ]
    out: Path | str = Path(out_dir).resolve() if out_dir is not None else "OUT_DIR"
    card = {
        "benchmark": benchmark.slug,
        "model": spec.to_dict(),
        "release": release_card(release_dir),
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
        "too_long": left_out_counts({"opa": run.samples.too_long}, benchmark),
    }
    result = DiverValueResult(
        scores=score_slices(margins, benchmark, seed),
        items=margins,
        card=card,
        other_countries=unmapped(item.slices["birth_country"] for item in margins),
    )
    if out_dir is not None:
        result.write(Path(out_dir))
    run.tracker.finish()
    return result
