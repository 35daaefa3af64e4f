"""What to evaluate: a model and how to run it, validated before anything is loaded.

Four kinds, each mapped onto an lm-eval model backend:

- ``hf``: a Hugging Face hub id (pinned to a 40-hex commit) or a local directory, run with
  transformers (lm-eval's ``hf``).
- ``openai-completions``: a served model behind an OpenAI-compatible completions endpoint
  (lm-eval's ``local-completions``); the server must return prompt log-probabilities (vLLM's
  server does). The API key is read from the environment variable named in ``api_key_env`` and
  never written into model arguments, results or commands.
- ``openai-chat``: a served model behind an OpenAI-compatible chat-completions endpoint, with
  no log-likelihoods (lm-eval's ``local-chat-completions``, run through the metered client in
  `evaluation.providers.client`): scored on the generative and judged tracks only. Its
  ``serving`` holds the provider's limits and prices; the key, as above, is named, not held.
- ``vllm``: the same weights as ``hf`` run by vLLM on a GPU worker (optional extra), with
  prefix caching on (the prompts of one item share their start) and ``max_model_len`` the
  model's own context (``max_length``, read from its config by the worker).

``shards`` and ``replicas`` lay the model out on a worker's GPUs (`evaluation.capacity`): more
than one shard is vLLM's ``tensor_parallel_size`` or transformers' ``parallelize=True``, more
than one replica vLLM's ``data_parallel_size`` or, for transformers, one process per GPU
(`evaluation.data_parallel`; the stock command is ``accelerate launch -m lm_eval``). The stock
lm-eval command on a card (`evaluation.repro.lm_eval_command`) runs the same layout.

Remote code is never run: ``trust_remote_code`` is always False.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

from evaluation.benchmarks.contract import Track
from evaluation.providers.generation import Generation

KINDS = ("hf", "openai-completions", "openai-chat", "vllm")
SERVED = ("openai-completions", "openai-chat")
DTYPES = ("auto", "float32", "bfloat16", "float16")
#: the stock lm-eval model type of each kind (what reproduction commands name)
LM_EVAL_MODEL = {
    "hf": "hf",
    "openai-completions": "local-completions",
    "openai-chat": "local-chat-completions",
    "vllm": "vllm",
}
COMMIT = re.compile(r"^[0-9a-f]{40}$")

Kind = Literal["hf", "openai-completions", "openai-chat", "vllm"]


def tracks_of(kind: str) -> tuple[Track, ...]:
    """The tracks a model of this kind can be scored on: a chat model gives no
    log-likelihoods, so it is never ranked with models that do, and they are not asked for
    generated letters."""
    if kind == "openai-chat":
        return (Track.GENERATIVE, Track.JUDGED)
    return (Track.LOGLIKELIHOOD, Track.JUDGED)


@dataclass(frozen=True)
class Serving:
    """A provider's limits and prices, as the site registers them (no secret among them)."""

    concurrency: int = 1
    requests_per_minute: float | None = None
    timeout_s: int = 60
    input_price_per_m: float = 0.0
    output_price_per_m: float = 0.0
    #: attempts at one request, as lm-eval's `max_retries` counts them (the first included),
    #: retried with back-off after a 429, 5xx, timeout or malformed answer
    max_retries: int = 6

    def __post_init__(self) -> None:
        if self.max_retries < 1:
            raise ValueError("max_retries (attempts per request) must be at least 1")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.requests_per_minute is not None and self.requests_per_minute <= 0:
            raise ValueError("requests per minute must be positive")
        if self.timeout_s < 1:
            raise ValueError("the request timeout must be at least 1 second")
        if self.input_price_per_m < 0 or self.output_price_per_m < 0:
            raise ValueError("prices cannot be negative")


def is_local_path(name: str) -> bool:
    """Only explicit path syntax counts: a hub-style id never becomes a local path because a
    directory of that name happens to exist where the worker runs."""
    return name.startswith(("/", "./", "../", "~"))


def vllm_available() -> bool:
    return importlib.util.find_spec("vllm") is not None


@dataclass(frozen=True)
class ModelSpec:
    pretrained: str
    kind: Kind = "hf"
    revision: str | None = None
    dtype: str = "auto"
    batch_size: int | str = 8
    apply_chat_template: bool = False
    max_length: int | None = None
    base_url: str | None = None
    # None: no Authorization header. The site never names one for user-submitted endpoints, so
    # a worker's credentials cannot be sent to a server a submitter controls.
    api_key_env: str | None = None
    tokenizer: str | None = None
    serving: Serving | None = None
    #: GPUs one copy of the model spans, and copies scoring side by side (evaluation.capacity)
    shards: int = 1
    replicas: int = 1
    #: a chat model's generation settings (max tokens, temperature, system prompt, reasoning
    #: mode); None: the benchmark's defaults
    generation: Generation | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not self.pretrained:
            raise ValueError("pretrained (model id, path or served model name) is required")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {self.dtype!r}")
        if isinstance(self.batch_size, str):
            if self.batch_size != "auto":
                raise ValueError("batch_size must be a positive integer or 'auto'")
        elif self.batch_size < 1:
            raise ValueError("batch_size must be a positive integer or 'auto'")
        if self.max_length is not None and self.max_length < 16:
            raise ValueError("max_length must be at least 16 tokens")
        if self.shards < 1 or self.replicas < 1:
            raise ValueError("shards and replicas must be at least 1")
        if (self.shards > 1 or self.replicas > 1) and self.kind in SERVED:
            raise ValueError("a served model runs on its server: it has no GPU layout here")
        if self.replicas > 1 and self.shards > 1 and self.kind == "hf":
            # parallelize=True spreads one copy over every GPU the process sees.
            raise ValueError("a sharded transformers model spans the whole node: one copy")
        if self.kind in SERVED:
            if not self.base_url or not self.base_url.startswith(("http://", "https://")):
                raise ValueError(f"an {self.kind} model needs an http(s) base_url")
        elif self.base_url:
            raise ValueError(f"base_url only applies to served models, not {self.kind}")
        if self.kind == "openai-chat":
            # lm-eval sends chat requests one conversation at a time, built from the chat
            # messages (the template is the server's): say so rather than be overridden.
            if self.batch_size != 1:
                raise ValueError("a chat-completions model runs with batch_size 1")
            if not self.apply_chat_template:
                raise ValueError("a chat-completions model needs apply_chat_template")
        elif self.generation is not None:
            raise ValueError("generation settings only apply to chat-completions models")
        # A hub id without a pinned commit would silently change under the leaderboard.
        unpinned = not self.revision or not COMMIT.match(self.revision)
        if self.kind not in SERVED and not self.is_local and unpinned:
            raise ValueError(
                f"revision for hub model {self.pretrained!r} must be a full 40-character "
                "commit hash"
            )

    @property
    def is_local(self) -> bool:
        return self.kind not in SERVED and is_local_path(self.pretrained)

    @property
    def lm_eval_model(self) -> str:
        return LM_EVAL_MODEL[self.kind]

    @property
    def tracks(self) -> tuple[Track, ...]:
        return tracks_of(self.kind)

    def to_lm_eval_args(self) -> dict[str, Any]:
        """lm-eval ``model_args``; safe to record and print (no secrets)."""
        args: dict[str, Any]
        if self.kind == "openai-chat":
            serving = self.serving or Serving()
            args = {
                "model": self.pretrained,
                "base_url": self.base_url,
                "num_concurrent": serving.concurrency,
                "timeout": serving.timeout_s,
                "max_retries": serving.max_retries,
            }
        elif self.kind == "openai-completions":
            args = {
                "model": self.pretrained,
                "base_url": self.base_url,
                "tokenizer_backend": "huggingface",
                "tokenizer": self.tokenizer or self.pretrained,
                "tokenized_requests": False,
            }
        else:
            args = {"pretrained": self.pretrained, "dtype": self.dtype}
            if self.tokenizer:
                args["tokenizer"] = self.tokenizer
        if self.revision and not self.is_local and self.kind != "openai-chat":
            args["revision"] = self.revision
        if self.kind == "vllm":
            args |= self._vllm_args()
        elif self.max_length is not None:
            args["max_length"] = self.max_length
        if self.kind == "hf" and self.shards > 1:
            args["parallelize"] = True  # transformers' device_map over the visible GPUs
        args["trust_remote_code"] = False
        return args

    def _vllm_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {
            "tensor_parallel_size": self.shards,
            "data_parallel_size": self.replicas,
            # MC and AJ prompts of one item share their start: computed once and reused by
            # generation (AJ's answers, PAA). vLLM skips the cache for requests that ask for
            # prompt log-likelihoods (vllm PR #23399), so MC/OPA get no speed-up from it; and
            # vllm issue #42019 reports order-dependent prompt_logprobs with it on, which the
            # parity line of benchmarks/gpu_throughput.py would show. Only a GPU can tell.
            "enable_prefix_caching": True,
        }
        if self.max_length is not None:
            # vLLM sizes its KV cache for this; left unset it would take its own default.
            args["max_model_len"] = self.max_length
        return args

    def model_args_string(self) -> str:
        """``model_args`` as the lm-eval CLI takes them (key=value,...)."""
        return ",".join(f"{key}={value}" for key, value in self.to_lm_eval_args().items())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_model_ref(text: str, *, dtype: str = "auto") -> ModelSpec:
    """A transformers model named as one string, "ORG/NAME@COMMIT" (a hub id, pinned) or
    "/path/to/model" (a local directory, optionally "@LABEL"): how an operator names a model
    in one setting, such as the site's reference judge."""
    name, sep, revision = text.strip().rpartition("@")
    if not sep:
        name, revision = text.strip(), ""
    return ModelSpec(pretrained=name, revision=revision or None, dtype=dtype)
