"""What to evaluate: a model and how to run it, validated before anything is loaded.

Three kinds, each mapped onto an lm-eval model backend:

- ``hf``: a Hugging Face hub id (pinned to a 40-hex commit) or a local directory, run with
  transformers (lm-eval's ``hf``).
- ``openai-completions``: a served model behind an OpenAI-compatible completions endpoint
  (lm-eval's ``local-completions``); the server must return prompt log-probabilities (vLLM's
  server does). The API key is read from the environment variable named in ``api_key_env`` and
  never written into model arguments, results or commands.
- ``vllm``: the same weights as ``hf`` run by vLLM on a GPU worker (optional extra).

Remote code is never run: ``trust_remote_code`` is always False.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

KINDS = ("hf", "openai-completions", "vllm")
DTYPES = ("auto", "float32", "bfloat16", "float16")
LM_EVAL_MODEL = {"hf": "hf", "openai-completions": "local-completions", "vllm": "vllm"}
COMMIT = re.compile(r"^[0-9a-f]{40}$")

Kind = Literal["hf", "openai-completions", "vllm"]


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
        if self.kind == "openai-completions":
            if not self.base_url or not self.base_url.startswith(("http://", "https://")):
                raise ValueError("an openai-completions model needs an http(s) base_url")
        elif self.base_url:
            raise ValueError(f"base_url only applies to openai-completions, not {self.kind}")
        # A hub id without a pinned commit would silently change under the leaderboard.
        unpinned = not self.revision or not COMMIT.match(self.revision)
        if self.kind != "openai-completions" and not self.is_local and unpinned:
            raise ValueError(
                f"revision for hub model {self.pretrained!r} must be a full 40-character "
                "commit hash"
            )

    @property
    def is_local(self) -> bool:
        return self.kind != "openai-completions" and is_local_path(self.pretrained)

    @property
    def lm_eval_model(self) -> str:
        return LM_EVAL_MODEL[self.kind]

    def to_lm_eval_args(self) -> dict[str, Any]:
        """lm-eval ``model_args``; safe to record and print (no secrets)."""
        args: dict[str, Any]
        if self.kind == "openai-completions":
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
        if self.revision and not self.is_local:
            args["revision"] = self.revision
        if self.max_length is not None:
            args["max_length"] = self.max_length
        args["trust_remote_code"] = False
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
