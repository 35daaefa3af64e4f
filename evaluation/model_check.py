"""Checks a submitted model before any job is queued: reachable, no remote code, pinned.

Runs on the web host, so it never loads weights: the config is read and the parameter count
comes from instantiating the architecture on PyTorch's meta device.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from evaluation.spec import COMMIT, is_local_path

# Hub repository names are ASCII: without re.ASCII, \w would take any Unicode letter.
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$", re.ASCII)
HUB_ID_MESSAGE = (
    "Model id must look like 'organisation/model-name' (letters, digits, '-', '_', '.')."
)
# Every `name` a submission may give, as documented in the API schema: a hub id, an absolute
# path on this server, or a served model's name (an endpoint's, e.g. "gpt-4o" or "llama3:8b").
# Plain syntax that JSON Schema and Python read alike (match it whole: Python's `$` also matches
# before a final newline); check_hub / check_local then check what the name points at.
SUBMITTED_NAME = r"^(?:/[^\x00-\x20\x7f]*|[A-Za-z0-9][A-Za-z0-9_.:/-]*)$"
SUBMITTED_NAME_MAX_LENGTH = 200
SUBMITTED_NAME_MESSAGE = (
    "Give a Hugging Face id ('organisation/model-name': letters, digits, '-', '_', '.'), an "
    "absolute path on this server, or, with an endpoint, the served model's name."
)
_FINGERPRINT_BYTES = 1 << 20
# transformers and huggingface_hub resolve their names on first access (lazy modules, and
# transformers again per architecture when a config or model class is looked up), and that is
# not thread-safe: the first parallel submissions on a threaded web worker failed with
# "cannot import name 'AutoConfig'". Their first uses in this module take turns here.
_LAZY_IMPORTS = threading.Lock()


class ModelCheckError(ValueError):
    """The submission cannot be evaluated; the message says why, for the submitter."""


@dataclass(frozen=True)
class ModelInfo:
    revision: str
    params: int | None
    architecture: str
    verified: bool
    note: str = ""


def is_hub_id(name: str) -> bool:
    if not HUB_ID.match(name) or name.startswith((".", "/")):
        return False
    # "org/.." and friends would name a directory on the server, not a repository.
    return all(part.strip(".") for part in name.split("/"))


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


def _check_config(config_dict: dict[str, object]) -> str:
    if config_dict.get("auto_map"):
        raise ModelCheckError(
            "This model needs custom code from its repository (auto_map in config.json); "
            "the leaderboard never runs remote code. Submit a model with a built-in architecture."
        )
    architectures = config_dict.get("architectures") or []
    model_type = config_dict.get("model_type")
    if not model_type:
        raise ModelCheckError("config.json has no model_type; transformers cannot load it.")
    return (
        str(architectures[0])
        if isinstance(architectures, list) and architectures
        else str(model_type)
    )


def count_parameters(config_source: str | Path, revision: str | None = None) -> int | None:
    """Parameter count without loading weights (meta device); None if it cannot be built."""
    # The whole build holds the lock: a new model_type imports its modules lazily too. It
    # only reads a local config.json and allocates nothing, so the wait stays short.
    with _LAZY_IMPORTS:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM

        try:
            config = AutoConfig.from_pretrained(
                str(config_source), revision=revision, trust_remote_code=False
            )
            with torch.device("meta"):
                model = AutoModelForCausalLM.from_config(config, trust_remote_code=False)  # type: ignore[no-untyped-call]
        except (ValueError, KeyError, OSError) as exc:
            raise ModelCheckError(
                f"transformers cannot build this model from its config: {exc}"
            ) from exc
    return sum(p.numel() for p in model.parameters())


#: where configs state the context a model was trained for, most common first
CONTEXT_KEYS = (
    "max_position_embeddings",
    "n_positions",
    "max_sequence_length",
    "seq_length",
    "max_seq_len",
)


def context_length(config: dict[str, object]) -> int | None:
    """The context, in tokens, a model's config.json states (a multimodal model's in its
    `text_config`); None where it states none."""
    nested = config.get("text_config")
    for source in (config, nested if isinstance(nested, dict) else {}):
        for key in CONTEXT_KEYS:
            value = source.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
    return None


def read_config(pretrained: str, revision: str | None) -> dict[str, object]:
    """A model's config.json (a local directory's, or the hub's at REVISION), weights untouched."""
    if is_local_path(pretrained):
        path = Path(pretrained).expanduser() / "config.json"
    else:
        with _LAZY_IMPORTS:
            from huggingface_hub import hf_hub_download
        path = Path(hf_hub_download(pretrained, "config.json", revision=revision))
    loaded = json.loads(path.read_text())
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return loaded


def local_fingerprint(path: Path) -> str:
    """A content fingerprint of a model directory, used as its pinned revision."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode())
        size = file.stat().st_size
        digest.update(str(size).encode())
        with file.open("rb") as handle:
            digest.update(handle.read(_FINGERPRINT_BYTES))
            if size > 2 * _FINGERPRINT_BYTES:
                handle.seek(-_FINGERPRINT_BYTES, os.SEEK_END)
                digest.update(handle.read())
    return "local-" + digest.hexdigest()[:32]


def check_local(path: Path, allowed_roots: list[Path]) -> ModelInfo:
    resolved = path.resolve()
    if not any(resolved.is_relative_to(root.resolve()) for root in allowed_roots):
        allowed = ", ".join(str(root) for root in allowed_roots) or "none configured"
        raise ModelCheckError(
            f"Local paths are only accepted under the directories this site allows "
            f"(SUBMISSION_LOCAL_ROOTS: {allowed}); put the model there or submit a Hugging "
            "Face id instead."
        )
    config_file = resolved / "config.json"
    if not config_file.is_file():
        raise ModelCheckError(f"No config.json in {path}; is this a transformers model directory?")
    try:
        config_dict = json.loads(config_file.read_text())
    except json.JSONDecodeError as exc:
        raise ModelCheckError(f"config.json is not valid JSON: {exc}") from exc
    architecture = _check_config(config_dict)
    return ModelInfo(
        revision=local_fingerprint(resolved),
        params=count_parameters(resolved),
        architecture=architecture,
        verified=True,
    )


def _unverified(revision: str, cause: BaseException | None = None) -> ModelInfo:
    """The hub cannot be reached: accept only a pinned commit, and say it was not checked."""
    if not COMMIT.match(revision):
        raise ModelCheckError(
            "The Hugging Face hub cannot be reached from this server right now, so the revision "
            "must be given as a full 40-character commit hash (or submit a local model)."
        ) from cause
    return ModelInfo(
        revision=revision,
        params=None,
        architecture="",
        verified=False,
        note="Not verified: the hub was unreachable when submitted.",
    )


def check_hub(name: str, revision: str) -> ModelInfo:
    if not is_hub_id(name):
        raise ModelCheckError(HUB_ID_MESSAGE)
    if Path(name).exists():
        # transformers would load that directory instead of the hub repository.
        raise ModelCheckError(f"{name!r} names a path on this server, not a hub repository.")
    if _offline():
        return _unverified(revision)
    with _LAZY_IMPORTS:
        from huggingface_hub import HfApi, hf_hub_download
        from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    # The hub client's transport errors (DNS, refused, reset, proxy, timeouts) share a base
    # class in whichever HTTP library it uses; all of them mean "unreachable", not "not found".
    transport_errors: tuple[type[BaseException], ...] = (OSError, OfflineModeIsEnabled)
    for module in ("httpx2", "httpx", "requests"):
        try:
            library = __import__(module)
        except ImportError:
            continue
        base = getattr(library, "TransportError", None) or getattr(library, "ConnectionError", None)
        if isinstance(base, type) and issubclass(base, BaseException):
            transport_errors += (base,)
    sha = ""
    try:
        info = HfApi().model_info(name, revision=revision or None)
        sha = str(info.sha)
        config_path = hf_hub_download(name, "config.json", revision=info.sha)
    except HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status is not None and status >= 500:  # the hub is down, not the model missing
            return _unverified(revision or sha, exc)
        raise ModelCheckError(
            f"Could not find {name} at revision {revision or 'main'}: {exc}"
        ) from exc
    except transport_errors as exc:
        return _unverified(revision or sha, exc)
    architecture = _check_config(json.loads(Path(config_path).read_text()))
    params = info.safetensors.total if info.safetensors else None
    return ModelInfo(
        revision=str(info.sha), params=params, architecture=architecture, verified=True
    )
