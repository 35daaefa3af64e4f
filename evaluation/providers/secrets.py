"""A provider's API key, read only where requests are sent (the worker).

The site stores the NAME of a secret, never its value: the worker reads the environment
variable of that name, or the file named by `<NAME>_FILE` (Docker and Kubernetes secrets).
Errors name the variable, never the value.
"""

from __future__ import annotations

import os
import re
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
