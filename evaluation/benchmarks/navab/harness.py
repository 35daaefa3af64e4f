"""`evaluate`: score a model on a release per nation x mode x method, through lm-eval.

Every log-likelihood comes from lm-eval's own evaluator (`simple_evaluate` on the task configs
written by NaVAB's `lm_eval_tasks`, with samples logged), so a stock `lm_eval` run of the exported
tasks computes the same numbers. On top of lm-eval's accuracy this adds what the leaderboard
needs: per-example records, the declared sub-metrics (NaVAB's position halves), stderr and a seeded bootstrap interval.

Stages (each its own `simple_evaluate` call, exactly as the stock commands on the card run
them): MC; MC answered by a generated letter (`mc_gen`, the generative track for chat models
without log-likelihoods: parsed by `evaluation.providers.letters`, unanswered items counted);
AJ answering (greedy generation, once, by any model); AJ judging (log-likelihood of " A" vs
" B") by the model itself or a chosen judge (`aj`), and by the site's reference judge
(`aj_ref`, the judged track, where open and chat models rank together).
"""

from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evaluation import repro
from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.contract import BenchmarkDefinition
from evaluation.benchmarks.intervals import metric_interval
from evaluation.benchmarks.navab.balance import BalancedItem, balance
from evaluation.benchmarks.navab.card import build_card
from evaluation.benchmarks.navab.judging import JudgeItem, free_answer, judge_items
from evaluation.benchmarks.navab.lm_eval_tasks import (
    AJ,
    AJ_REF,
    GEN,
    JUDGED,
    MC,
    MC_GEN,
    METHODS,
    ExportedTasks,
    export_tasks,
    write_judge_tasks,
)
from evaluation.benchmarks.navab.prompts import LETTERS
from evaluation.benchmarks.navab.records import TripleRecord
from evaluation.context import TooLong, left_out_counts
from evaluation.errors import ModelError, SetupError, judged_by_setup
from evaluation.lm_eval_runner import Progress, ProgressCallback, load_lm, run_tasks
from evaluation.providers.letters import parse_letter
from evaluation.results import EvaluationResult, Part, SampleRecord, ScoreRow
from evaluation.spec import ModelSpec
from evaluation.stats import cell_seed, stderr


def _judge_blamed(chosen: bool, judge: ModelSpec) -> AbstractContextManager[None]:
    """A judge the caller chose (a reference judge, `judge=`) is the set-up's to fix when it
    fails; the model judging its own answers is the model's."""
    return judged_by_setup(judge.pretrained) if chosen else nullcontext()


def _choose(values: Sequence[str] | None, allowed: Sequence[str], what: str) -> list[str]:
    if not values:
        return list(allowed)
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise SetupError(
            f"unknown {what}(s): {', '.join(unknown)}; choose from {', '.join(allowed)}"
        )
    return [v for v in allowed if v in values]


def _navab() -> BenchmarkDefinition:
    # Through the registry: the definition imports this harness for its operations.
    return get_benchmark("navab")


def _known_order() -> dict[str, int]:
    """Known nations and modes first, in the declaration's order; any other value a release
    holds follows alphabetically (a release may hold nations this code has never heard of)."""
    navab = _navab()
    known = [v for key in ("nation", "mode") for v in navab.slice_dimension(key).value_labels]
    return {value: i for i, value in enumerate(known)}


def _in_order(values: set[str]) -> list[str]:
    order = _known_order()
    return sorted(values, key=lambda v: (order.get(v, len(order)), v))


def release_cells(
    release_dir: Path,
    nations: Sequence[str] | None = None,
    modes: Sequence[str] | None = None,
    *,
    limit: int | None = None,
) -> dict[tuple[str, str], list[BalancedItem]]:
    """The release's position-balanced items per (nation, mode), for the nations and modes
    asked for (default: every nation the release holds, and every mode but the unscored
    ones; asking for one it lacks is an error). `limit` keeps the first N balanced items of
    each cell (both halves stay represented)."""
    if limit is not None and limit < 1:
        raise SetupError("limit must be a positive number of items per nation x mode")
    # Any form of the release: a release directory, the publisher's folders, a download.
    triples = [TripleRecord.from_dict(item) for item in _navab().release_items(Path(release_dir))]
    chosen_nations = _choose(nations, _in_order({t.nation for t in triples}), "nation")
    held_modes = _in_order({t.mode for t in triples})
    if not modes:
        unscored = _navab().slice_dimension("mode").unscored
        modes = [m for m in held_modes if m not in unscored]
    chosen_modes = _choose(modes, held_modes, "mode")
    return {
        key: items[:limit] if limit else items
        for key, items in balance(
            t for t in triples if t.nation in chosen_nations and t.mode in chosen_modes
        ).items()
    }


def _choice_records(samples: dict[str, list[dict[str, Any]]], method: str) -> list[SampleRecord]:
    navab = _navab()
    # A method that counts empty answers (aj_ref: a chat model's blocked response arrives as
    # "") marks each judged item; its task scores an empty one 0 (letters.process_judged).
    marks_answers = any(sub.selector == "answer" for sub in navab.method(method).submetrics)
    records = []
    for task in sorted(samples):
        for sample in samples[task]:
            doc = sample["doc"]
            lls = [float(resp[0]) for resp in sample["filtered_resps"]]
            # lm-eval's argmax: the first maximum wins, so a tie goes to A.
            chosen = 0 if lls[0] >= lls[1] else 1
            correct = bool(sample["acc"])
            # An empty answer chose nothing; the judge's lean stays in the log-likelihoods.
            empty = marks_answers and not str(doc.get("answer") or "").strip()
            details: dict[str, Any] = {"loglikelihoods": dict(zip(LETTERS, lls, strict=True))}
            if doc.get("answer") is not None:
                details["answer"] = doc["answer"]
            records.append(
                SampleRecord(
                    uid=doc["uid"],
                    method=method,
                    slices=navab.slice_of(doc),
                    value=float(correct),
                    correct=correct,
                    chosen="" if empty else LETTERS[chosen],
                    parts={"half": doc["half"]}
                    | ({"answer": "empty" if empty else "given"} if marks_answers else {}),
                    details=details,
                )
            )
    return records


def _letter_records(samples: dict[str, list[dict[str, Any]]]) -> list[SampleRecord]:
    """mc_gen: the letter read from each generated answer; an answer without one scores 0 and
    keeps why (`parse`), so every cell counts its unparsable, ambiguous, empty, refused and
    blocked items."""
    navab = _navab()
    records = []
    for task in sorted(samples):
        for sample in samples[task]:
            doc = sample["doc"]
            text = str(sample["filtered_resps"][0])
            letter, status = parse_letter(text)
            correct = letter is not None and letter == LETTERS[int(doc["gold"])]
            records.append(
                SampleRecord(
                    uid=doc["uid"],
                    method=MC_GEN,
                    slices=navab.slice_of(doc),
                    value=float(correct),
                    correct=correct,
                    chosen=letter or "",
                    parts={"half": doc["half"], "parse": status},
                    details={"response": text, "parse": status},
                )
            )
    return records


def default_methods(spec: ModelSpec) -> list[str]:
    """The methods on the tracks `spec` can be scored on (a chat model: the generated letter;
    a model with log-likelihoods: MC and AJ)."""
    navab = _navab()
    return [m for m in METHODS if navab.method(m).track in spec.tracks]


def score_rows(
    samples: Sequence[SampleRecord], seed: int, benchmark: BenchmarkDefinition | None = None
) -> list[ScoreRow]:
    """One row per slice cell x method present in `samples`, for the method's primary metric
    (each record holds one per-item value), with the method's declared sub-metrics as parts."""
    benchmark = benchmark or _navab()
    keys = [d.key for d in benchmark.slices]
    cells: dict[tuple[str, ...], list[SampleRecord]] = defaultdict(list)
    for sample in samples:
        cells[(*(sample.slices[k] for k in keys), sample.method)].append(sample)
    methods = [m.key for m in benchmark.methods]
    order = {**_known_order(), **{method: i for i, method in enumerate(methods)}}
    rows = []
    for key in sorted(cells, key=lambda k: tuple(order.get(part, len(order)) for part in k) + k):
        method = benchmark.method(key[-1])
        metric = method.primary_metric
        cell = cells[key]
        values = [s.value for s in cell]
        low, high = metric_interval(metric, values, cell_seed(seed, *key))
        parts: dict[str, Part] = {}
        for sub in method.submetrics:
            subset = [s.value for s in cell if s.parts.get(sub.selector) == sub.value]
            parts[sub.key] = {"value": _mean(subset) if subset else None, "n": len(subset)}
        rows.append(
            ScoreRow(
                slices=dict(zip(keys, key[:-1], strict=True)),
                method=method.key,
                metric=metric.key,
                value=_mean(values),
                n=len(values),
                stderr=stderr(values),
                ci_low=low,
                ci_high=high,
                parts=parts,
            )
        )
    return rows


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


NO_REFERENCE_JUDGE = "no reference judge is configured"


def _methods(
    requested: Sequence[str] | None, reference_judge: ModelSpec | None, spec: ModelSpec
) -> list[str]:
    """The methods to run: by default those on `spec`'s tracks, less aj_ref where no reference
    judge is given (the card says so). Asking for aj_ref without one, or for a method off the
    model's tracks, is an error."""
    if requested and AJ_REF in requested and reference_judge is None:
        raise SetupError(f"{AJ_REF} needs a reference judge; none is configured")
    defaults = [m for m in default_methods(spec) if m != AJ_REF or reference_judge is not None]
    methods = _choose(requested or defaults, METHODS, "method")
    off_track = [m for m in methods if _navab().method(m).track not in spec.tracks]
    if off_track:
        # The model's kind gives no log-likelihoods (or no letters) for these methods.
        raise ModelError(
            f"{', '.join(off_track)} cannot score a {spec.kind} model (its track is not one of "
            f"{', '.join(t.value for t in spec.tracks)})"
        )
    return methods


def judge_answers(
    lm: Any,
    spec: ModelSpec,
    items: dict[tuple[str, str], list[JudgeItem]],
    method: str,
    exported: ExportedTasks,
    seed: int,
    too_long: list[TooLong] | None = None,
) -> list[SampleRecord]:
    """Judge `items` (answers from any source: this run's generation stage, an API model, a
    stored answers file) with `lm` under `method`'s own task names; the items the judge's
    context cannot hold are added to `too_long`."""
    write_judge_tasks(items, exported.directory, exported, [method])
    samples = run_tasks(lm, spec, exported.names(method), exported.directory, seed)
    if too_long is not None:
        too_long += samples.too_long
    return _choice_records(samples, method)


def evaluate(
    spec: ModelSpec,
    release_dir: Path,
    *,
    methods: Sequence[str] | None = None,
    nations: Sequence[str] | None = None,
    modes: Sequence[str] | None = None,
    seed: int = 1234,
    device: str = "auto",
    limit: int | None = None,
    max_gen_toks: int = 128,
    judge: ModelSpec | None = None,
    reference_judge: ModelSpec | None = None,
    out_dir: Path | None = None,
    progress: ProgressCallback | None = None,
) -> EvaluationResult:
    """Score `spec` on the release in `release_dir`.

    `methods`, `nations`, `modes` default to all (aj_ref only with a `reference_judge`).
    `limit` keeps the first N balanced items of each nation x mode (both halves stay
    represented). `judge` scores AJ answers (default: the model itself); `reference_judge`
    scores the same answers for aj_ref. With `out_dir`, the lm-eval tasks are exported to
    `out_dir/tasks` and the results written there (results.json, samples.jsonl,
    answers.jsonl), and the card's commands name those paths. `progress` receives a
    `ProgressEvent` per model request and per stage.
    """
    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    methods = _methods(methods, reference_judge, spec)
    not_run = {AJ_REF: NO_REFERENCE_JUDGE} if reference_judge is None else {}
    if max_gen_toks < 1:
        raise SetupError("max_gen_toks must be at least 1")
    release_dir = Path(release_dir).resolve()
    cells = release_cells(release_dir, nations, modes, limit=limit)
    n_items = sum(len(items) for items in cells.values())
    if n_items == 0:
        raise SetupError(
            f"the release in {release_dir} has no triples for nations "
            f"{', '.join(nations or ['(all)'])} and modes {', '.join(modes or ['(all)'])}"
        )
    nations = _in_order({nation for nation, _ in cells})
    modes = _in_order({mode for _, mode in cells})
    run_device = repro.resolve_device(device, spec)
    reference_device = repro.resolve_device(device, reference_judge) if reference_judge else ""
    judged = [m for m in JUDGED if m in methods]
    # MC: two log-likelihoods per item; the free answers: one generation; each judge: two.
    tracker = Progress(
        total=n_items
        * (
            (2 if MC in methods else 0)
            + (1 if MC_GEN in methods else 0)
            + (1 if judged else 0)
            + 2 * len(judged)
        ),
        callback=progress,
    )

    with ExitStack() as stack:
        if out_dir is None:
            tasks_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="navab-")))
        else:
            tasks_dir = Path(out_dir).resolve() / "tasks"
        exported = export_tasks(cells, tasks_dir, methods=methods, max_gen_toks=max_gen_toks)
        tracker.start("loading model")
        lm = load_lm(spec, run_device)
        loaded = spec
        tracker.attach(lm)
        records: list[SampleRecord] = []
        answers: dict[str, str] = {}
        # Per method, the items left out because a model's context cannot hold them.
        too_long: dict[str, list[TooLong]] = {m: [] for m in methods}
        if MC in methods:
            tracker.start("mc")
            samples = run_tasks(lm, spec, exported.names(MC), tasks_dir, seed)
            too_long[MC] += samples.too_long
            records += _choice_records(samples, MC)
            tracker.finish_stage(2 * n_items)
        if MC_GEN in methods:
            tracker.start("mc: generated letters")
            samples = run_tasks(lm, spec, exported.names(MC_GEN), tasks_dir, seed)
            too_long[MC_GEN] += samples.too_long
            records += _letter_records(samples)
            tracker.finish_stage((2 * n_items if MC in methods else 0) + n_items)
        if judged:
            tracker.start("aj: answering")
            generated = run_tasks(lm, spec, exported.names(GEN), tasks_dir, seed)
            for method in judged:
                # An item without an answer is not judged (`judge_items`).
                too_long[method] += generated.too_long
            for task_samples in generated.values():
                for sample in task_samples:
                    answers[sample["doc"]["uid"]] = free_answer(str(sample["filtered_resps"][0]))
            tracker.finish_stage(
                ((2 if MC in methods else 0) + (1 if MC_GEN in methods else 0) + 1) * n_items
            )
            items = judge_items(cells, answers)
            judges = {
                AJ: (
                    judge or spec,
                    run_device if judge is None else repro.resolve_device(device, judge),
                ),
                AJ_REF: (reference_judge, reference_device),
            }
            for method in judged:
                judge_spec, judge_device = judges[method]
                assert judge_spec is not None  # _methods keeps aj_ref only with a judge
                if judge_spec != loaded:
                    tracker.start(f"loading {'reference judge' if method == AJ_REF else 'judge'}")
                    del lm  # free the model before loading the next one
                    with _judge_blamed(judge_spec is not spec, judge_spec):
                        lm = load_lm(judge_spec, judge_device)
                    loaded = judge_spec
                    tracker.attach(lm)
                tracker.start("aj: judging" if method == AJ else "aj_ref: reference judge")
                start = tracker.done
                with _judge_blamed(judge_spec is not spec, judge_spec):
                    records += judge_answers(
                        lm, judge_spec, items, method, exported, seed, too_long[method]
                    )
                tracker.finish_stage(start + 2 * n_items)
        tracker.start("scoring")
        rows = score_rows(records, seed)

    card = build_card(
        spec,
        judge,
        reference_judge if AJ_REF in methods else None,
        release_dir,
        out_dir,
        methods=methods,
        not_run=not_run,
        nations=nations,
        modes=modes,
        seed=seed,
        device=run_device,
        reference_device=reference_device,
        limit=limit,
        max_gen_toks=max_gen_toks,
        task_names={kind: exported.names(kind) for kind in (MC, MC_GEN, GEN, *JUDGED)},
        started_at=started_at,
        duration_s=time.monotonic() - started,
    )
    card = replace(card, too_long=left_out_counts(too_long, _navab()))
    result = EvaluationResult(scores=rows, samples=records, card=card, answers=answers)
    if out_dir is not None:
        result.write(Path(out_dir))
    tracker.finish()
    return result
