"""A provider's API key, read only where requests are sent (the worker).

The site stores the NAME of a secret, never its value: the worker reads the environment
variable of that name, or the file named by `<NAME>_FILE` (Docker and Kubernetes secrets).
Errors name the variable, never the value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from evaluation.errors import ModelError

SECRET_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
KEY_CHARACTERS = re.compile(r"[!-~]+")


class SecretError(ModelError):
    """The worker has no value for a provider's secret."""


def check_secret_name(name: str) -> str:
    if not SECRET_NAME.match(name):
        raise ValueError(
            "a secret name is an environment variable name: capitals, digits and underscores, "
            f"starting with a letter (not {name!r})"
        )
    return name


def read_secret(name: str) -> str:
    check_secret_name(name)
    value = _usable(name, os.environ.get(name, ""))
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            value = _usable(name, Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise SecretError(
                f"the file named by {name}_FILE cannot be read: {exc.strerror}"
            ) from exc
        if value:
            return value
    raise SecretError(f"this worker has no value for the secret {name} (set {name} or {name}_FILE)")


def _usable(name: str, value: str) -> str:
    """VALUE without surrounding whitespace (a secret file's newline, which an env var set
    from it keeps too). A key is printable ASCII without spaces: anything else would be refused
    as a header by `requests` with an error quoting it, so it is refused here, unquoted."""
    value = value.strip()
    if value and not KEY_CHARACTERS.fullmatch(value):
        raise SecretError(
            f"the value of the secret {name} is not a key: it holds spaces, line breaks or "
            "characters outside printable ASCII"
        )
    return value


REDACTED = "[redacted]"
# Shorter pieces of a key are too common in ordinary text to be told from it.
MIN_PIECE = 4


def redact(text: str, secrets: Iterable[str], limit: int | None = None) -> str:
    """TEXT with every secret replaced, then cut to LIMIT characters.

    Replacing comes first: a cut through a key would leave a piece no longer matched. A piece
    of a secret that the text starts or ends with (the end of the text is where a cut falls;
    its start may be a cut made by whoever sent it) is a piece of the key too, and goes."""
    keys = sorted({s for s in secrets if len(s) >= MIN_PIECE}, key=len, reverse=True)
    for key in keys:
        text = text.replace(key, REDACTED)
    if limit is not None and len(text) > limit:
        text = text[:limit]
    for key in keys:
        text = _strip_piece(text, key)
    return text


def _strip_piece(text: str, key: str) -> str:
    for size in range(min(len(key) - 1, len(text)), MIN_PIECE - 1, -1):
        if text.endswith(key[:size]):
            text = text[:-size] + REDACTED
            break
    for size in range(min(len(key) - 1, len(text)), MIN_PIECE - 1, -1):
        if text.startswith(key[-size:]):
            text = REDACTED + text[size:]
            break
    return text
