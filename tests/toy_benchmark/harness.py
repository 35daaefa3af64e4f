"""The toy benchmark's lm-eval task and its evaluation: one multiple-choice task over every
item (right answer first), run by lm-eval on any model; scores per country x topic."""

from __future__ import annotations

import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import yaml

from evaluation import repro
from evaluation.benchmarks.contract import BenchmarkDefinition
from evaluation.benchmarks.intervals import metric_interval
from evaluation.lm_eval_runner import load_lm
from evaluation.release import iter_items, load_manifest
from evaluation.results import EvaluationResult, ProgressEvent, ReproCard, SampleRecord, ScoreRow
from evaluation.spec import ModelSpec
from evaluation.stats import cell_seed, stderr

TASK: Final = "toy_pick"
CHOICES: Final = ("right", "wrong")


def export_tasks(
    benchmark: BenchmarkDefinition,
    release_dir: Path,
    out_dir: Path,
    slices: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """The task over the items whose slice values SLICES keeps (default: all)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    docs = out_dir / f"{TASK}.jsonl"
    unknown = sorted(set(slices or {}) - {d.key for d in benchmark.slices})
    if unknown:
        raise ValueError(f"the toy benchmark has no slice dimension {', '.join(unknown)}")
    with docs.open("w", encoding="utf-8") as handle:
        for item in iter_items(release_dir, benchmark.items_file):
            cell = benchmark.slice_of(item)
            if any(cell[key] not in values for key, values in (slices or {}).items()):
                continue
            doc = {**item, "choices": [f" {item['right']}", f" {item['wrong']}"]}
            handle.write(json.dumps(doc, ensure_ascii=False) + "\n")
    config = {
        "task": TASK,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(docs.resolve())}},
        "test_split": "test",
        "output_type": "multiple_choice",
        "doc_to_text": "prompt",
        "doc_to_choice": "choices",
        "doc_to_target": 0,
        "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
        "metadata": {"version": 1.0},
    }
    (out_dir / f"{TASK}.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return [TASK]


def evaluate(
    benchmark: BenchmarkDefinition,
    spec: ModelSpec,
    release_dir: Path,
    *,
    methods: list[str] | None = None,
    seed: int = 1234,
    device: str = "auto",
    max_gen_toks: int = 0,
    slices: Mapping[str, Sequence[str]] | None = None,
    out_dir: Path | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
) -> EvaluationResult:
    """Scores on the items SLICES keeps; with OUT_DIR its tasks are kept in OUT_DIR/tasks."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    if methods and set(methods) != {"pick"}:
        raise ValueError(f"the toy benchmark has one method, 'pick' (asked: {methods})")
    started, started_at = time.monotonic(), datetime.now(UTC).isoformat(timespec="seconds")
    run_device = repro.resolve_device(device, spec)
    with tempfile.TemporaryDirectory(prefix="toy-") as scratch:
        tasks_dir = str(Path(out_dir) / "tasks") if out_dir is not None else scratch
        names = export_tasks(benchmark, release_dir, Path(tasks_dir), slices)
        if progress:
            progress(ProgressEvent("pick", 0, 1))
        output = lm_eval.simple_evaluate(
            model=load_lm(spec, run_device),
            tasks=names,
            task_manager=TaskManager(include_path=tasks_dir, include_defaults=False),
            log_samples=True,
            bootstrap_iters=0,
            random_seed=seed,
            numpy_random_seed=seed,
            torch_random_seed=seed,
            fewshot_random_seed=seed,
        )
        if progress:
            progress(ProgressEvent("pick", 1, 1))
    assert output is not None
    samples = [_sample(benchmark, s) for s in output["samples"][TASK]]
    card = ReproCard(
        model=spec.to_dict(),
        judge=None,
        release={"path": str(release_dir), "version": load_manifest(release_dir).get("version")},
        methods=["pick"],
        slices={d.key: sorted({s.slices[d.key] for s in samples}) for d in benchmark.slices},
        dtype=spec.dtype,
        batch_size=spec.batch_size,
        seed=seed,
        device=run_device,
        device_name=repro.device_name(run_device),
        max_gen_toks=max_gen_toks,
        limit=None,
        versions=repro.versions(spec),
        command="",
        lm_eval_commands=[
            repro.lm_eval_command(spec, names, "TASKS", "OUT", seed=seed, device=run_device)
        ],
        started_at=started_at,
        duration_s=round(time.monotonic() - started, 3),
    )
    return EvaluationResult(scores=score_rows(benchmark, samples, seed), samples=samples, card=card)


def _sample(benchmark: BenchmarkDefinition, sample: dict[str, Any]) -> SampleRecord:
    doc = sample["doc"]
    right, wrong = (float(resp[0]) for resp in sample["filtered_resps"])
    correct = bool(sample["acc"])
    return SampleRecord(
        uid=doc["uid"],
        method="pick",
        slices=benchmark.slice_of(doc),
        value=float(correct),
        correct=correct,
        chosen=CHOICES[0] if correct else CHOICES[1],
        details={
            "loglikelihoods": dict(zip(CHOICES, (right, wrong), strict=True)),
            "margin": right - wrong,
        },
    )


def score_rows(
    benchmark: BenchmarkDefinition, samples: list[SampleRecord], seed: int
) -> list[ScoreRow]:
    """Both metrics of the method on every country x topic cell."""
    method = benchmark.method("pick")
    cells: dict[tuple[str, ...], list[SampleRecord]] = defaultdict(list)
    for sample in samples:
        cells[tuple(sample.slices[d.key] for d in benchmark.slices)].append(sample)
    rows = []
    for key, cell in sorted(cells.items()):
        for metric in method.metrics:
            values = [s.value if metric.key == "acc" else s.details["margin"] for s in cell]
            low, high = metric_interval(metric, values, cell_seed(seed, *key, metric.key))
            rows.append(
                ScoreRow(
                    slices=dict(zip((d.key for d in benchmark.slices), key, strict=True)),
                    method=method.key,
                    metric=metric.key,
                    value=sum(values) / len(values),
                    n=len(values),
                    stderr=stderr(values),
                    ci_low=low,
                    ci_high=high,
                )
            )
    return rows
