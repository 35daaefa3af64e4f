"""PAA's judge panel: which judges, and the one interface every judge backend implements.

The panel is configured in the environment, so web hosts and workers read the same one (as
`EVAL_EXTRA_BENCHMARKS`): `EVAL_PAA_JUDGES` holds a JSON list, one entry per judge, either a
model path or hub id (`"/models/judge"`, `"org/judge@<40-hex commit>"`) or an object:

    [{"name": "qwen-judge", "model": "Qwen/Qwen2.5-7B-Instruct", "revision": "<commit>",
      "apply_chat_template": true},
     {"name": "gpt-4o", "kind": "openai-chat", "model": "gpt-4o",
      "base_url": "https://api.example.com/v1/chat/completions", "api_key_env": "JUDGE_KEY"}]

Kinds: `hf` (default; transformers through lm-eval, on the worker) and `openai-chat` (an
OpenAI-compatible chat-completions endpoint through the same metered client as served models,
`evaluation.providers.client`: retries with back-off on 429, 5xx, timeouts and malformed
answers, the job's response cache, budget and recorded usage; the key is read on the worker
from the secret `api_key_env` names and never recorded). An `openai-chat` judge may carry the
provider's limits and prices as `"serving": {...}` (`evaluation.spec.Serving`'s fields). An
empty or unset value means no panel: PAA is then not run, and the result says why.

Every backend implements `JudgeBackend.generate`; `open_backend` is the one place that maps a
judge's kind onto a backend.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from evaluation.benchmarks.divervalue.paa_prompts import JUDGE_SYSTEM
from evaluation.benchmarks.divervalue.paa_tasks import generated_text, write_generate_task
from evaluation.context import NoItemFits, TooLong
from evaluation.providers.secrets import check_secret_name
from evaluation.spec import ModelSpec, Serving, is_local_path

JUDGES_ENV: Final = "EVAL_PAA_JUDGES"
#: the publisher's judges answer in at most this many tokens
DEFAULT_MAX_GEN_TOKS: Final = 360
JudgeKind = Literal["hf", "openai-chat"]
KINDS: Final = ("hf", "openai-chat")


@dataclass(frozen=True)
class JudgeSpec:
    name: str
    model: str
    kind: JudgeKind = "hf"
    revision: str | None = None
    dtype: str = "auto"
    apply_chat_template: bool = False
    base_url: str | None = None
    #: the worker's environment variable holding the endpoint's key (never the key itself)
    api_key_env: str | None = None
    max_gen_toks: int = DEFAULT_MAX_GEN_TOKS
    #: an `openai-chat` judge's provider limits and prices (None: `Serving`'s defaults)
    serving: Serving | None = None

    def __post_init__(self) -> None:
        if self.kind == "openai-chat":
            # A chat endpoint takes messages, never raw text: lm-eval must build them.
            object.__setattr__(self, "apply_chat_template", True)
        if not self.name or not self.model:
            raise ValueError("a judge needs a name and a model")
        if self.kind not in KINDS:
            raise ValueError(f"judge {self.name}: kind must be one of {', '.join(KINDS)}")
        if self.max_gen_toks < 1:
            raise ValueError(f"judge {self.name}: max_gen_toks must be at least 1")
        if self.kind == "openai-chat":
            if not self.base_url or not self.base_url.startswith(("http://", "https://")):
                raise ValueError(
                    f"judge {self.name}: an openai-chat judge needs an http(s) base_url"
                )
            if self.api_key_env:
                check_secret_name(self.api_key_env)
        elif self.serving is not None or self.api_key_env:
            raise ValueError(f"judge {self.name}: serving and api_key_env are for openai-chat")
        else:
            self.model_spec()  # a hub id must be pinned to a commit, as for evaluated models

    def model_spec(self) -> ModelSpec:
        """The judge as the model lm-eval loads: an `openai-chat` judge is a served chat model
        (one conversation per request), so it goes through the metered client."""
        if self.kind == "openai-chat":
            return ModelSpec(
                kind="openai-chat",
                pretrained=self.model,
                base_url=self.base_url,
                batch_size=1,
                apply_chat_template=True,
                api_key_env=self.api_key_env,
                serving=self.serving or Serving(),
            )
        return ModelSpec(
            pretrained=self.model,
            revision=self.revision,
            dtype=self.dtype,
            apply_chat_template=self.apply_chat_template,
        )

    def card(self) -> dict[str, Any]:
        """What the result records about the judge (no key). A local judge's revision is its
        directory's content fingerprint, as for a local evaluated model."""
        from evaluation.model_check import local_fingerprint

        revision = self.revision
        if revision is None and self.kind == "hf" and is_local_path(self.model):
            directory = Path(self.model).expanduser()
            revision = local_fingerprint(directory) if directory.is_dir() else None
        return {
            "name": self.name,
            "kind": self.kind,
            "model": self.model,
            "revision": revision,
            "dtype": self.dtype,
            "apply_chat_template": self.apply_chat_template,
            "base_url": self.base_url,
            "max_gen_toks": self.max_gen_toks,
            # limits and prices only: the key is named by a secret and never held here
            "serving": None if self.serving is None else asdict(self.serving),
        }


def _judge(entry: Any, index: int) -> JudgeSpec:
    if isinstance(entry, str):
        model, _, revision = entry.partition("@")
        return JudgeSpec(name=Path(model).name or model, model=model, revision=revision or None)
    if not isinstance(entry, dict):
        raise ValueError(f"{JUDGES_ENV}[{index}]: a judge is a model name or an object")
    known = set(JudgeSpec.__dataclass_fields__)
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ValueError(f"{JUDGES_ENV}[{index}]: unknown key(s) {', '.join(unknown)}")
    fields = dict(entry)
    fields.setdefault("name", Path(str(fields.get("model", ""))).name)
    try:
        if isinstance(fields.get("serving"), dict):
            fields["serving"] = Serving(**fields["serving"])
        elif fields.get("serving") is not None:
            raise ValueError("serving is an object of provider limits and prices")
        return JudgeSpec(**fields)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{JUDGES_ENV}[{index}]: {exc}") from exc


def parse_judges(text: str) -> list[JudgeSpec]:
    """The panel a JSON list describes (an empty text: no panel)."""
    if not text.strip():
        return []
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{JUDGES_ENV} is not JSON: {exc}") from exc
    if not isinstance(entries, list):
        raise ValueError(f"{JUDGES_ENV} must be a JSON list of judges")
    judges = [_judge(entry, i) for i, entry in enumerate(entries)]
    names = [j.name for j in judges]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{JUDGES_ENV}: judge names repeat: {', '.join(repeated)}")
    return judges


def configured_judges() -> list[JudgeSpec]:
    return parse_judges(os.environ.get(JUDGES_ENV, ""))


@dataclass
class JudgeOutputs:
    """A judge's raw output per uid, less the prompts longer than its context (never cut)."""

    outputs: dict[str, str]
    too_long: list[TooLong] = field(default_factory=list)


class JudgeBackend(ABC):
    """A judge that writes one output per prompt it can read whole."""

    def __init__(self, spec: JudgeSpec) -> None:
        self.spec = spec

    @abstractmethod
    def generate(self, prompts: Sequence[tuple[str, str]]) -> JudgeOutputs:
        """The raw output for each (uid, prompt) that fits the judge's context, and the
        prompts left out."""


class LmEvalJudge(JudgeBackend):
    """A judge run by lm-eval's evaluator on an exported `generate_until` task, so a stock
    `lm_eval` run of the same task file reproduces its raw outputs."""

    def __init__(self, spec: JudgeSpec, tasks_dir: Path, task: str, *, device: str, seed: int):
        super().__init__(spec)
        self.tasks_dir = Path(tasks_dir)
        self.task = task
        self.device = device
        self.seed = seed

    def _load(self) -> Any:
        # One loader for evaluated models and judges: an `openai-chat` judge becomes the
        # metered chat client, which joins the job's metering session (cache, budget, usage)
        # and reads the key from the worker's secret there.
        from evaluation.lm_eval_runner import load_lm

        device = "endpoint" if self.spec.kind == "openai-chat" else self.device
        return load_lm(self.spec.model_spec(), device)

    def generate(self, prompts: Sequence[tuple[str, str]]) -> JudgeOutputs:
        from evaluation.lm_eval_runner import run_tasks

        write_generate_task(
            self.tasks_dir,
            self.task,
            prompts,
            system=JUDGE_SYSTEM,
            max_gen_toks=self.spec.max_gen_toks,
        )
        lm = self._load()
        try:
            samples = run_tasks(lm, self.spec, [self.task], self.tasks_dir, self.seed)
        except NoItemFits as exc:
            # The judge's context, not the evaluated model's: every item is left out of the
            # verdicts (and the run says so), the job is not failed as the model's problem.
            return JudgeOutputs({}, exc.too_long)
        return JudgeOutputs(generated_text(samples.get(self.task, [])), samples.too_long)


def open_backend(
    spec: JudgeSpec, tasks_dir: Path, task: str, *, device: str, seed: int
) -> JudgeBackend:
    """The backend for a judge's kind (both run through lm-eval today)."""
    return LmEvalJudge(spec, tasks_dir, task, device=device, seed=seed)
