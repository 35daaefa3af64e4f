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
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SecretError(
                f"the file named by {name}_FILE cannot be read: {exc.strerror}"
            ) from exc
        if value:
            return value
    raise SecretError(f"this worker has no value for the secret {name} (set {name} or {name}_FILE)")
