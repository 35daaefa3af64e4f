"""Typed readers for settings that come from the environment.

Every setting has a default that runs with no configuration; a `NAME_FILE` variable,
when set, is read instead of `NAME` so secrets can come from mounted files.
"""

from __future__ import annotations

import os
from pathlib import Path


def envstr(name: str, default: str) -> str:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be a boolean (true/false), got {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {value!r}") from exc


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def local_secret(path: Path) -> str:
    """A random secret kept in PATH (created on first use, readable by its owner only), so a
    site started without SECRET_KEY never signs sessions with a key published in the repo."""
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        # Written whole under a temporary name, then linked into place: processes starting
        # together agree on one key and never read a half-written file.
        scratch = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass  # another process won; use its key
        finally:
            scratch.unlink()
    return path.read_text().strip()
