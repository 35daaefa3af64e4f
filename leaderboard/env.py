"""Typed readers for settings that come from the environment.

Every setting has a default that runs with no configuration; a `NAME_FILE` variable,
when set, is read instead of `NAME` so secrets can come from mounted files.
"""

from __future__ import annotations

import os
from pathlib import Path

from celery.schedules import crontab


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
        import tempfile

        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a unique temporary name, then linked into place: processes
        # starting together agree on one key and never read a half-written file.
        fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass  # another process won; use its key
        except OSError:
            # No hard links on this filesystem: fall back to an exclusive create.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(Path(scratch).read_text())
        finally:
            Path(scratch).unlink(missing_ok=True)
    return path.read_text().strip()


def envschedule(name: str) -> float | crontab | None:
    """A beat schedule: seconds between runs ("86400"), or a crontab of five fields as cron
    reads them ("0 3 * * 1": minute, hour, day of month, month, day of week); None where unset."""
    value = envstr(name, "").strip()
    if not value:
        return None
    fields = value.split()
    try:
        if len(fields) == 1:
            seconds = float(value)
            if seconds > 0:
                return seconds
        elif len(fields) == 5:
            minute, hour, day_of_month, month, day_of_week = fields
            return crontab(
                minute=minute,
                hour=hour,
                day_of_month=day_of_month,
                month_of_year=month,
                day_of_week=day_of_week,
            )
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}, got {value!r}") from exc
    raise ValueError(
        f"{name} must be seconds between runs (a positive number) or a crontab of five fields "
        f"(minute hour day-of-month month day-of-week), got {value!r}"
    )
