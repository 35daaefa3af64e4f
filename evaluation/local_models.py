"""What the public sees of a local model or judge: the name of its directory and a content
fingerprint, never the server path it sits at (`/srv/.../var/models/...` names the host's
layout and is of no use to a reader, who cannot fetch it)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evaluation.model_check import local_fingerprint
from evaluation.spec import is_local_path

#: The keys a card names a model or judge under (a spec's, a judge's).
MODEL_KEYS = ("pretrained", "model")


def public_name(name: str) -> str:
    """A local directory as `./NAME`, NAME its own folder's name; any other name as it is."""
    if not is_local_path(name):
        return name
    return f"./{Path(name.rstrip('/')).name}"


def _local_names(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in MODEL_KEYS and isinstance(inner, str) and is_local_path(inner):
                found.add(inner)
            _local_names(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _local_names(inner, found)


def _without(value: Any, fingerprints: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        out = {key: _without(inner, fingerprints) for key, inner in value.items()}
        for key in MODEL_KEYS:
            path = value.get(key)
            if isinstance(path, str) and path in fingerprints and not value.get("revision"):
                out["revision"] = fingerprints[path]
        return out
    if isinstance(value, list):
        return [_without(inner, fingerprints) for inner in value]
    if isinstance(value, str):
        # Longest first: a judge inside the evaluated model's folder keeps its own name.
        for path in sorted(fingerprints, key=len, reverse=True):
            value = value.replace(path.rstrip("/"), public_name(path))
        return value
    return value


def public_card(card: dict[str, Any], known: Mapping[str, str] | None = None) -> dict[str, Any]:
    """CARD with every local model and judge it names (under "pretrained" or "model") shown by
    its public name wherever the path occurs (commands too), and with its content fingerprint
    as its revision. KNOWN: fingerprints already computed (a submitted model's)."""
    found: set[str] = set()
    _local_names(card, found)
    fingerprints = {path: dict(known or {}).get(path) or _fingerprint(path) for path in found}
    return dict(_without(card, fingerprints))


def _fingerprint(path: str) -> str:
    directory = Path(path)
    return local_fingerprint(directory) if directory.is_dir() else "local-unknown"
