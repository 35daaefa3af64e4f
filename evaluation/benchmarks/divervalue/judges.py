"""PAA's judge panel: which judges, and the one interface every judge backend implements.

The panel is configured in the environment, so web hosts and workers read the same one (as
`EVAL_EXTRA_BENCHMARKS`): `EVAL_PAA_JUDGES` holds a JSON list, one entry per judge, either a
model path or hub id (`"/models/judge"`, `"org/judge@<40-hex commit>"`) or an object:

    [{"name": "qwen-judge", "model": "Qwen/Qwen2.5-7B-Instruct", "revision": "<commit>",
      "apply_chat_template": true},
     {"name": "gpt-4o", "kind": "openai-chat", "model": "gpt-4o",
      "base_url": "https://api.example.com/v1/chat/completions", "api_key_env": "JUDGE_KEY"}]

Kinds: `hf` (default; transformers through lm-eval, on the worker) and `openai-chat` (an
OpenAI-compatible chat-completions endpoint through the served models' metered lm-eval chat
client, `evaluation.providers.client`: retried, cached and billed in the job's session; the
key is read on the worker from the variable `api_key_env` names, or `<NAME>_FILE`, and never
recorded). An empty
or unset value means no panel: PAA is then not run, and the result says why.

Every backend implements `JudgeBackend.generate`; `open_backend` is the one place that maps a
judge's kind onto a backend, where another client (the served-models chat client) plugs in.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from evaluation.benchmarks.divervalue.paa_prompts import JUDGE_SYSTEM
from evaluation.benchmarks.divervalue.paa_tasks import generated_text, write_generate_task
from evaluation.spec import ModelSpec, is_local_path

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
        else:
            self.model_spec()  # a hub id must be pinned to a commit, as for evaluated models

    def model_spec(self) -> ModelSpec:
        if self.kind == "openai-chat":
            # The served-models client: the key read as for evaluated models, requests
            # metered, cached and retried in the job's session.
            return ModelSpec(
                kind="openai-chat",
                pretrained=self.model,
                base_url=self.base_url,
                batch_size=1,
                apply_chat_template=True,
                api_key_env=self.api_key_env,
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
        return JudgeSpec(**fields)
    except TypeError as exc:
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


class JudgeBackend(ABC):
    """A judge that writes one output per prompt."""

    def __init__(self, spec: JudgeSpec) -> None:
        self.spec = spec

    @abstractmethod
    def generate(self, prompts: Sequence[tuple[str, str]]) -> list[str]:
        """The raw output for each (uid, prompt), in order."""


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
        from evaluation.lm_eval_runner import load_lm

        # A served judge runs on its endpoint: load_lm does not use the device for it.
        return load_lm(self.spec.model_spec(), self.device)

    def generate(self, prompts: Sequence[tuple[str, str]]) -> list[str]:
        from evaluation.lm_eval_runner import run_tasks

        write_generate_task(
            self.tasks_dir,
            self.task,
            prompts,
            system=JUDGE_SYSTEM,
            max_gen_toks=self.spec.max_gen_toks,
        )
        lm = self._load()
        samples = run_tasks(lm, self.spec, [self.task], self.tasks_dir, self.seed)
        outputs = generated_text(samples[self.task])
        return [outputs[uid] for uid, _ in prompts]


def open_backend(
    spec: JudgeSpec, tasks_dir: Path, task: str, *, device: str, seed: int
) -> JudgeBackend:
    """The backend for a judge's kind (both run through lm-eval today)."""
    return LmEvalJudge(spec, tasks_dir, task, device=device, seed=seed)
