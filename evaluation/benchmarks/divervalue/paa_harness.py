"""PAA: the evaluated model answers each item freely, a judge panel scores the answer.

Stage 1 runs the exported `divervalue_paa_answer` task through lm-eval's evaluator (the
model's own chat-template setting applies; greedy decoding), stage 2 one judge task per judge
(`judges.open_backend`). Each judge's raw output is read by `judge_output` (strict, then the
documented fallback, else the judge abstains on that item) and the panel's verdict follows
`paa.panel_verdict`. Every judge's raw output, how it was read and its vote are kept per item.

Per item the outcome is one indicator per verdict (W, L, TIE, ABSTAIN) and the share of the
panel whose output could not be read; every metric is their mean over a slice, with an
interval that resamples users, like OPA's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaluation import repro
from evaluation.benchmarks.divervalue.judge_output import Parse, read_judge_output
from evaluation.benchmarks.divervalue.judges import JudgeSpec, open_backend
from evaluation.benchmarks.divervalue.paa import (
    MAJORITY,
    MARGIN,
    MARGIN_L,
    SLACK,
    Verdict,
    judge_verdict,
    panel_verdict,
)
from evaluation.benchmarks.divervalue.paa_prompts import ANSWER_SYSTEM, answer_prompt, judge_prompt
from evaluation.benchmarks.divervalue.paa_tasks import (
    ANSWER_TASK,
    generated_text,
    judge_task,
    write_generate_task,
)
from evaluation.context import TooLong
from evaluation.errors import SetupError, judged_by_setup
from evaluation.lm_eval_runner import Progress, load_lm, run_tasks
from evaluation.results import ProgressEvent
from evaluation.spec import ModelSpec

if TYPE_CHECKING:
    from evaluation.benchmarks.divervalue.definition import DiverValueBench

METHOD = "paa"
#: per-item outcome keys, which are the PAA method's metric keys
VERDICT_METRICS: Mapping[Verdict, str] = {
    Verdict.W: "paa",
    Verdict.L: "l_share",
    Verdict.TIE: "tie_share",
    Verdict.ABSTAIN: "abstain_share",
}
UNPARSABLE = "unparsable"


@dataclass(frozen=True)
class ItemVerdict:
    uid: str
    user_id: str
    split: str
    slices: dict[str, str]
    answer: str
    verdict: Verdict
    #: one entry per judge: name, raw output, how it was read, its scores and its vote
    judges: list[dict[str, Any]]
    outcome: dict[str, float]


@dataclass
class PaaRun:
    items: list[ItemVerdict]
    #: what the reproducibility card records about PAA
    card: dict[str, Any]
    commands: list[str] = field(default_factory=list)
    #: the items left out because the model's or a judge's context cannot hold their prompt
    too_long: list[TooLong] = field(default_factory=list)


def rule() -> dict[str, Any]:
    return {
        "margin": MARGIN,
        "slack": SLACK,
        "margin_l": MARGIN_L,
        "majority": MAJORITY,
        "force_l_on_hard_violation": False,
        "abstain": "unparsable judge output",
    }


def judge_item(
    uid: str, raw_by_judge: Sequence[tuple[JudgeSpec, str]]
) -> tuple[Verdict, list[dict[str, Any]], float]:
    """The panel's verdict on one item from each judge's raw output; the judges' records; the
    share of the panel that abstained."""
    readings = [(spec, raw, read_judge_output(raw, spec.name)) for spec, raw in raw_by_judge]
    verdict = panel_verdict([reading.scores for _, _, reading in readings])
    records = []
    for spec, raw, reading in readings:
        scores = reading.scores
        records.append(
            {
                "judge": spec.name,
                "raw": raw,
                "parse": str(reading.parse),
                "error": reading.error,
                "scores": None
                if scores is None
                else {"model": scores.model, "w": scores.winner, "l": scores.loser},
                "hard_violation": None if scores is None else scores.hard_violation,
                "vote": str(Verdict.ABSTAIN if scores is None else judge_verdict(scores)),
            }
        )
    unparsable = sum(r.parse is Parse.UNPARSABLE for _, _, r in readings) / len(readings)
    return verdict, records, unparsable


def outcome(verdict: Verdict, unparsable: float) -> dict[str, float]:
    return {
        **{key: float(verdict is v) for v, key in VERDICT_METRICS.items()},
        UNPARSABLE: unparsable,
    }


def run_paa(
    spec: ModelSpec,
    items: Sequence[Mapping[str, Any]],
    judges: Sequence[JudgeSpec],
    benchmark: DiverValueBench,
    *,
    tasks_dir: Path,
    out_dir: Path | str,
    seed: int,
    device: str,
    max_gen_toks: int,
    progress: Callable[[ProgressEvent], None] | None = None,
) -> PaaRun:
    """Answer every item with `spec` and judge each answer with every judge of the panel."""
    if not judges:
        raise SetupError("PAA needs at least one judge")
    by_uid = {str(item["uid"]): item for item in items}
    tracker = Progress(total=len(items) * (1 + len(judges)), callback=progress)
    run_device = repro.resolve_device(device, spec)
    write_generate_task(
        tasks_dir,
        ANSWER_TASK,
        {uid: answer_prompt(item) for uid, item in by_uid.items()},
        system=ANSWER_SYSTEM,
        max_gen_toks=max_gen_toks,
    )
    tracker.start("paa: loading model")
    lm = load_lm(spec, run_device)
    tracker.attach(lm)
    tracker.start("paa: answering")
    answered = run_tasks(lm, spec, [ANSWER_TASK], tasks_dir, seed)
    del lm  # free the evaluated model before the judges load
    tracker.finish_stage(len(items))
    # An item whose prompt the model cannot read whole has no answer: it is left out (and
    # counted), never judged. None fitting failed above, as the model's problem.
    answers = {
        uid: text.strip() for uid, text in generated_text(answered.get(ANSWER_TASK, [])).items()
    }
    too_long = [_as_item(left, by_uid) for left in answered.too_long]
    # Commands name the folder the export writes (OUT_DIR/tasks), not this run's scratch copy.
    shown_tasks = f"{out_dir}/tasks"
    commands = [
        repro.lm_eval_command(
            spec, [ANSWER_TASK], shown_tasks, f"{out_dir}/paa", seed=seed, device=run_device
        )
    ]
    raw: dict[str, list[tuple[JudgeSpec, str]]] = {uid: [] for uid in by_uid if uid in answers}
    for index, judge in enumerate(judges):
        task = judge_task(index)
        tracker.start(f"paa: judge {judge.name}")
        if raw:
            with judged_by_setup(judge.name):
                backend = open_backend(judge, tasks_dir, task, device=device, seed=seed)
                judged = backend.generate(
                    [(uid, judge_prompt(by_uid[uid], answers[uid])) for uid in raw]
                )
            # The panel's verdict needs every judge's output: an item one judge cannot read
            # whole is left out of the verdicts.
            too_long += [_as_item(left, by_uid) for left in judged.too_long]
            raw = {uid: [*raw[uid], (judge, judged.outputs[uid])] for uid in judged.outputs}
        tracker.finish_stage(len(items) * (2 + index))
        commands.append(_judge_command(judge, task, shown_tasks, f"{out_dir}/paa", seed, device))
    dimensions = [d.key for d in benchmark.slices]
    verdicts = []
    for uid, judged_item in raw.items():
        item = by_uid[uid]
        verdict, records, unparsable = judge_item(uid, judged_item)
        verdicts.append(
            ItemVerdict(
                uid=uid,
                user_id=str(item["user_id"]),
                split=str(item.get("split") or ""),
                slices={key: str(item.get(key) or "") for key in dimensions},
                answer=answers[uid],
                verdict=verdict,
                judges=records,
                outcome=outcome(verdict, unparsable),
            )
        )
    unparsable_by_judge = {
        judge.name: sum(v.judges[i]["parse"] == Parse.UNPARSABLE for v in verdicts)
        for i, judge in enumerate(judges)
    }
    card = {
        "run": True,
        "judges": [judge.card() for judge in judges],
        "rule": rule(),
        "answer_task": ANSWER_TASK,
        "answer_max_gen_toks": max_gen_toks,
        "apply_chat_template": spec.apply_chat_template,
        "n_items": len(verdicts),
        "unparsable_outputs": unparsable_by_judge,
        "abstained_items": sum(v.verdict is Verdict.ABSTAIN for v in verdicts),
    }
    tracker.start("paa: scored")
    return PaaRun(
        items=sorted(verdicts, key=lambda v: v.uid),
        card=card,
        commands=commands,
        too_long=too_long,
    )


def _as_item(left: TooLong, by_uid: Mapping[str, Mapping[str, Any]]) -> TooLong:
    """A left-out task document as the release item it renders, which carries the slices
    the card counts it under."""
    return replace(left, doc=dict(by_uid[str(left.doc["uid"])]))


def _judge_command(
    judge: JudgeSpec, task: str, tasks_dir: Path | str, out: str, seed: int, device: str
) -> str:
    # The judge's own spec, as for an evaluated model: a chat judge's command names
    # `local-chat-completions` with batch size 1 and the chat template, its key by secret.
    spec = judge.model_spec()
    return repro.lm_eval_command(
        spec, [task], tasks_dir, out, seed=seed, device=repro.resolve_device(device, spec)
    )
