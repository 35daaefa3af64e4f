"""Running lm-eval tasks for any benchmark's harness: the model loaded as lm-eval loads it
(no remote code, API keys outside model arguments), the tasks run by lm-eval's own evaluator
with samples logged, and progress counted per model request."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import accumulate
from pathlib import Path
from typing import Any, Protocol

from evaluation.context import TooLong, leave_out_too_long
from evaluation.errors import ModelError, SetupError
from evaluation.results import ProgressEvent
from evaluation.spec import SERVED, ModelSpec, Serving, vllm_available

ProgressCallback = Callable[[ProgressEvent], None]
#: The stage a run reports last.
FINISHED = "finished"


class ChatTemplateChoice(Protocol):
    """What `run_tasks` reads of a spec: a model's `ModelSpec`, or a judge's own spec."""

    @property
    def apply_chat_template(self) -> bool: ...


class Progress:
    """Counts model requests across stages; lm-eval reports each finished request to the LM's
    cache hook, which is the one per-request callback every lm-eval backend calls."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self.done = 0
        self.stage = "starting"
        self.callback = callback

    def emit(self) -> None:
        if self.callback is not None:
            self.callback(ProgressEvent(self.stage, min(self.done, self.total), self.total))

    def start(self, stage: str) -> None:
        self.stage = stage
        self.emit()

    def advance(self) -> None:
        self.done += 1
        self.emit()

    def finish_stage(self, done: int) -> None:
        """Snap to the stage's exact request count (backends may batch their reports)."""
        self.done = done
        self.emit()

    def finish(self) -> None:
        self.start(FINISHED)

    def attach(self, lm: Any) -> None:
        from lm_eval.api.model import CacheHook

        tracker = self

        class ProgressHook(CacheHook):
            def add_partial(self, attr: str, req: Any, res: Any) -> None:
                tracker.advance()

        lm.set_cache_hook(ProgressHook(None))


def chained(callback: ProgressCallback | None, totals: Sequence[int]) -> list[ProgressCallback]:
    """Callbacks for runs done one after another (DiverValue-Bench's OPA, then PAA) that report
    as one run: each counts on from the runs before it, out of the sum of all, and only the
    last may say it finished, so a watcher never sees "finished 100%" and then "judge 66%"."""
    grand = sum(totals)

    def part(offset: int, last: bool) -> ProgressCallback:
        def report(event: ProgressEvent) -> None:
            if callback is not None and (last or event.stage != FINISHED):
                callback(ProgressEvent(event.stage, offset + event.done, grand))

        return report

    offsets = list(accumulate([0, *totals[:-1]]))
    return [part(offset, i == len(totals) - 1) for i, offset in enumerate(offsets)]


def load_lm(spec: ModelSpec, device: str) -> Any:
    """An lm-eval LM for `spec`; loading failures are the model's problem (`ModelError`)."""
    from lm_eval.api.registry import get_model

    if spec.kind == "vllm" and not vllm_available():
        raise SetupError("vLLM is not installed on this worker; install the 'vllm' extra.")
    args = spec.to_lm_eval_args()
    if args.get("trust_remote_code") is not False:
        raise AssertionError("trust_remote_code must stay False")
    extra: dict[str, Any] = {"batch_size": spec.batch_size}
    model_type = spec.lm_eval_model
    if spec.kind in SERVED:
        if spec.api_key_env:
            from evaluation.providers import read_secret

            # Passed here, not in model_args, so the key never reaches results or commands.
            extra["header"] = {"Authorization": f"Bearer {read_secret(spec.api_key_env)}"}
        if spec.kind == "openai-chat" or spec.serving is not None:
            # Stock `local-chat-completions` / `local-completions` with the site's metering
            # (registered subclasses): a registered provider's limits, prices and budget.
            import evaluation.providers.client  # noqa: F401  (registers the model types)

            serving = spec.serving or Serving()
            chat = spec.kind == "openai-chat"
            model_type = "metered-chat-completions" if chat else "metered-completions"
            extra |= {
                "input_price_per_m": serving.input_price_per_m,
                "output_price_per_m": serving.output_price_per_m,
                "requests_per_minute": serving.requests_per_minute,
                "provider_concurrency": serving.concurrency,
                # The key's NAME: two accounts at one provider have a limit each.
                "provider_account": spec.api_key_env,
            }
            if chat and spec.generation is not None:
                extra["generation"] = spec.generation
            if not chat:  # the chat kind's are in its stock model_args
                extra |= {"timeout": serving.timeout_s, "max_retries": serving.max_retries}
    else:
        extra["device"] = device
    try:
        lm = get_model(model_type).create_from_arg_obj(args, extra)
    except (OSError, ValueError, KeyError, ImportError, RuntimeError) as exc:
        raise ModelError(f"could not load {spec.pretrained}: {exc}") from exc
    if spec.kind == "hf" and spec.replicas > 1:
        from evaluation.data_parallel import spread

        return spread(lm, spec, device)  # a copy per GPU (vLLM does this itself)
    return lm


class TaskSamples(dict[str, list[dict[str, Any]]]):
    """lm-eval's logged samples per task, and the documents left out of the run because the
    model's context cannot hold them (`evaluation.context`)."""

    def __init__(self, samples: dict[str, list[dict[str, Any]]], too_long: list[TooLong]) -> None:
        super().__init__(samples)
        self.too_long = too_long


def run_tasks(
    lm: Any,
    spec: ChatTemplateChoice,
    names: list[str],
    tasks_dir: Path,
    seed: int,
    metadata: dict[str, Any] | None = None,
) -> TaskSamples:
    """Run `names` from `tasks_dir` on `lm`, less the documents that do not fit its context
    (returned as `too_long`; ModelError where none fits). `metadata` reaches the tasks'
    dataset loaders, as the stock CLI passes them its `model_args` (a task may need the
    model's tokenizer)."""
    import lm_eval
    from lm_eval.tasks import TaskManager, get_task_dict

    manager = TaskManager(
        include_path=str(tasks_dir), include_defaults=False, metadata=metadata or None
    )
    tasks = get_task_dict(list(names), manager)
    too_long = leave_out_too_long(lm, tasks, spec.apply_chat_template)
    # By name where nothing was left out: lm-eval then loads the tasks itself, exactly as the
    # stock command on the card does (same request order, so the same answers from a server).
    runnable: list[Any] = (
        [task for task in tasks.values() if len(task.eval_docs)] if too_long else list(names)
    )
    if not runnable:
        return TaskSamples({}, too_long)  # nothing to run (lm-eval refuses an empty task list)
    output = lm_eval.simple_evaluate(
        model=lm,
        tasks=runnable,
        task_manager=manager,
        log_samples=True,
        bootstrap_iters=0,  # our own intervals are computed from the samples
        apply_chat_template=spec.apply_chat_template,
        random_seed=seed,
        numpy_random_seed=seed,
        torch_random_seed=seed,
        fewshot_random_seed=seed,
    )
    if output is None:
        raise RuntimeError("lm-eval returned no results (not the main process?)")
    samples: dict[str, list[dict[str, Any]]] = output["samples"]
    return TaskSamples(samples, too_long)
