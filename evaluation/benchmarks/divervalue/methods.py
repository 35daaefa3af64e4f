"""DiverValue-Bench's `evaluate` and `export_tasks` over both methods: OPA from
log-likelihoods (`harness`) and PAA from judged free answers (`paa_harness`), stored side by
side in one result but never mixed (each method has its own scores and ranking).

PAA runs only with a judge panel (`judges.configured_judges`, or `judges=` passed in); without
one the card says PAA was not run and why, so the board can say so instead of a blank column.
A job asking for PAA alone (a chat model's) without a panel raises `NoJudgePanel`: the site
refuses such submissions up front (`DiverValueBench.unavailable_methods`).
"""

from __future__ import annotations

import dataclasses
import shlex
import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from evaluation import repro
from evaluation.benchmarks.divervalue.judges import JUDGES_ENV, JudgeSpec, configured_judges
from evaluation.benchmarks.divervalue.release import release_card, select_items
from evaluation.errors import SetupError
from evaluation.lm_eval_runner import chained
from evaluation.results import EvaluationResult, ProgressEvent, ReproCard, SampleRecord
from evaluation.spec import ModelSpec

if TYPE_CHECKING:
    from evaluation.benchmarks.divervalue.definition import DiverValueBench
    from evaluation.benchmarks.divervalue.paa_harness import PaaRun

OPA: Final = "opa"
PAA: Final = "paa"
METHODS: Final = (OPA, PAA)
NO_JUDGES: Final = (
    f"PAA was not run: no judge panel is configured on the worker ({JUDGES_ENV} is empty)."
)


def undecided(card: Mapping[str, Any]) -> str | None:
    """Why PAA has no scores although its panel ran: no item got a verdict (every judge
    output unreadable, as the demo's random models write). A share of 0 W would read as a
    score, and rank; the outputs stay on each item's page."""
    n_items = int(card.get("n_items") or 0)
    if not n_items:
        return (
            "no verdicts: every item's prompt was longer than the context of the model or of "
            "a judge of the panel, and was left out (never cut)."
        )
    if card.get("abstained_items") == n_items:
        return (
            f"no verdicts: the judge panel could read none of its outputs on the {n_items} "
            f"items (each judge's raw output is on the item's results page)."
        )
    return None


class NoJudgePanel(SetupError):
    """Only PAA was asked for and this worker has no panel: the site's set-up, not the model."""


def _methods(methods: Sequence[str] | None) -> list[str]:
    chosen = list(methods or METHODS)
    unknown = sorted(set(chosen) - set(METHODS))
    if unknown:
        raise SetupError(f"unknown method(s) {', '.join(unknown)}; choose from opa, paa")
    return [m for m in METHODS if m in chosen]


def paa_samples(run: PaaRun) -> list[SampleRecord]:
    from evaluation.benchmarks.divervalue.paa import Verdict

    return [
        SampleRecord(
            uid=item.uid,
            method=PAA,
            slices=dict(item.slices),
            value=item.outcome[PAA],
            correct=None if item.verdict is Verdict.ABSTAIN else item.verdict is Verdict.W,
            chosen=str(item.verdict),
            details={
                "user_id": item.user_id,
                "split": item.split,
                "answer": item.answer,
                "judges": item.judges,
            },
        )
        for item in run.items
    ]


def paa_export_commands(
    release_dir: Path, out: Path | str, run: PaaRun, *, limit: int | None, max_gen_toks: int
) -> tuple[str, str]:
    """The two exports PAA's stock reproduction needs: the answering task, then (given the
    run's answers.jsonl) one judge task per judge of `EVAL_PAA_JUDGES`."""
    splits = sorted({item.split for item in run.items if item.split})
    parts = [
        "python", "-m", "evaluation", "export-tasks", "--benchmark", "divervalue",
        str(release_dir), f"{out}/tasks", "--methods", PAA,
        *(f"--slice=split={split}" for split in splits), "--max-gen-toks", str(max_gen_toks),
    ]  # fmt: skip
    if limit is not None:
        parts += ["--limit", str(limit)]
    answers = shlex.join([*parts, "--answers", f"{out}/answers.jsonl"])
    return shlex.join(parts), answers


def _paa_commands(run: PaaRun, judges_export: str) -> list[str]:
    """The answering run, the judges' export, then each judge's run."""
    return [run.commands[0], judges_export, *run.commands[1:]]


def _paa_only_card(
    spec: ModelSpec,
    release_dir: Path,
    run: PaaRun,
    *,
    seed: int,
    device: str,
    limit: int | None,
    out: Path | str,
) -> ReproCard:
    dimensions = sorted({key for item in run.items for key in item.slices})
    answer_export, judges_export = paa_export_commands(
        release_dir, out, run, limit=limit, max_gen_toks=run.card["answer_max_gen_toks"]
    )
    return ReproCard(
        model=spec.to_dict(),
        judge={PAA: run.card},
        release=release_card(release_dir),
        methods=[PAA],
        slices={key: sorted({item.slices[key] for item in run.items}) for key in dimensions},
        dtype=spec.dtype,
        batch_size=spec.batch_size,
        seed=seed,
        device=device,
        device_name=repro.device_name(device),
        max_gen_toks=run.card["answer_max_gen_toks"],
        limit=limit,
        versions=repro.versions(spec),
        command=run.commands[0],
        # A chat model's card too: export, answer, export the judges' tasks, judge.
        lm_eval_commands=[answer_export, *_paa_commands(run, judges_export)],
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        duration_s=0.0,
    )


def evaluate(
    spec: ModelSpec,
    release_dir: Path,
    *,
    benchmark: DiverValueBench,
    methods: Sequence[str] | None = None,
    judges: Sequence[JudgeSpec] | None = None,
    splits: Sequence[str] | None = None,
    seed: int = 1234,
    device: str = "auto",
    limit: int | None = None,
    max_gen_toks: int = 128,
    out_dir: Path | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
) -> EvaluationResult:
    """OPA and (with a judge panel) PAA of `spec`; `judges` defaults to the configured panel."""
    from evaluation.benchmarks.divervalue import harness
    from evaluation.benchmarks.divervalue.harness import score_slices
    from evaluation.benchmarks.divervalue.paa_harness import run_paa
    from evaluation.benchmarks.divervalue.results import score_rows, to_evaluation_result
    from evaluation.context import left_out_counts

    chosen = _methods(methods)
    panel = list(configured_judges() if judges is None else judges)
    if chosen == [PAA] and not panel:
        raise NoJudgePanel(f"{NO_JUDGES} Set it on the workers to judge this model's answers.")
    release_dir = Path(release_dir).resolve()
    items = select_items(release_dir, splits=splits, limit=limit)
    # One job, one count: OPA's two requests per item, then PAA's answer and judgements.
    runs = {OPA: 2 * len(items)} if OPA in chosen else {}
    if PAA in chosen and panel:
        runs[PAA] = len(items) * (1 + len(panel))
    reporters = dict(zip(runs, chained(progress, list(runs.values())), strict=True))
    result: EvaluationResult | None = None
    if OPA in chosen:
        opa = harness.evaluate(
            spec,
            release_dir,
            benchmark=benchmark,
            splits=splits,
            seed=seed,
            device=device,
            limit=limit,
            out_dir=out_dir,
            progress=reporters[OPA],
        )
        result = to_evaluation_result(opa, spec)
    if PAA not in chosen:
        assert result is not None
        return result
    if not panel:
        assert result is not None
        result.card = dataclasses.replace(result.card, not_run={PAA: NO_JUDGES})
        return result
    shown_out = Path(out_dir).resolve() if out_dir is not None else "OUT_DIR"
    with ExitStack() as stack:
        if out_dir is None:
            tasks_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dvb-paa-")))
        else:
            tasks_dir = Path(out_dir).resolve() / "tasks"
        run = run_paa(
            spec,
            items,
            panel,
            benchmark,
            tasks_dir=tasks_dir,
            out_dir=shown_out,
            seed=seed,
            device=device,
            max_gen_toks=max_gen_toks,
            progress=reporters[PAA],
        )
    no_verdicts = undecided(run.card)
    left_out = left_out_counts({PAA: run.too_long}, benchmark)
    scores = (
        []
        if no_verdicts
        else score_rows(score_slices(run.items, benchmark, seed, method=PAA), run.items)
    )
    samples = paa_samples(run)
    answers = {item.uid: item.answer for item in run.items}
    if result is None:
        result = EvaluationResult(
            scores=scores,
            samples=samples,
            card=_paa_only_card(
                spec,
                release_dir,
                run,
                seed=seed,
                device=repro.resolve_device(device, spec),
                limit=limit,
                out=shown_out,
            ),
            answers=answers,
        )
        result.card = dataclasses.replace(result.card, too_long=left_out)
    else:
        result.scores += scores
        result.samples += samples
        result.answers = answers
        result.card = dataclasses.replace(
            result.card,
            judge={PAA: run.card},
            methods=[*result.card.methods, PAA],
            too_long={**result.card.too_long, **left_out},
            max_gen_toks=max_gen_toks,
            # The export writes PAA's answering task too: with the run's generation budget.
            lm_eval_commands=[
                f"{result.card.lm_eval_commands[0]} --max-gen-toks {max_gen_toks}",
                *result.card.lm_eval_commands[1:],
                *_paa_commands(
                    run,
                    paa_export_commands(
                        release_dir, shown_out, run, limit=limit, max_gen_toks=max_gen_toks
                    )[1],
                ),
            ],
        )
    if no_verdicts:
        result.card = dataclasses.replace(result.card, not_run={PAA: no_verdicts})
    if out_dir is not None:
        result.write(Path(out_dir))
    return result


def export_tasks(
    items: Sequence[Mapping[str, Any]],
    out_dir: Path,
    *,
    methods: Sequence[str] | None,
    max_gen_toks: int,
    answers: Mapping[str, str] | None,
    judges: Sequence[JudgeSpec] | None = None,
) -> list[str]:
    """OPA's task, PAA's answering task and, given the model's answers, one judge task per
    judge of the panel (their prompts embed the answers: the two-stage reproduction)."""
    from evaluation.benchmarks.divervalue import lm_eval_tasks
    from evaluation.benchmarks.divervalue.paa_prompts import (
        ANSWER_SYSTEM,
        JUDGE_SYSTEM,
        answer_prompt,
        judge_prompt,
    )
    from evaluation.benchmarks.divervalue.paa_tasks import (
        ANSWER_TASK,
        judge_task,
        write_generate_task,
    )

    chosen = _methods(methods)
    names: list[str] = []
    if OPA in chosen:
        names += lm_eval_tasks.export_tasks(items, out_dir)
    if PAA in chosen:
        prompts = {str(item["uid"]): answer_prompt(item) for item in items}
        names.append(
            write_generate_task(
                out_dir, ANSWER_TASK, prompts, system=ANSWER_SYSTEM, max_gen_toks=max_gen_toks
            )
        )
        if answers is not None:
            missing = [uid for uid in prompts if uid not in answers]
            if missing:
                raise ValueError(f"no answer for {len(missing)} item(s), e.g. {missing[0]}")
            judged = [(str(i["uid"]), judge_prompt(i, answers[str(i["uid"])])) for i in items]
            for index, judge in enumerate(configured_judges() if judges is None else judges):
                names.append(
                    write_generate_task(
                        out_dir,
                        judge_task(index),
                        judged,
                        system=JUDGE_SYSTEM,
                        max_gen_toks=judge.max_gen_toks,
                    )
                )
    return names
