"""Argument types shared by the `python -m evaluation` subcommands (their parsers live apart)."""

from __future__ import annotations


def csv_list(value: str) -> list[str]:
    """`us, cn,` -> ["us", "cn"]."""
    return [part.strip() for part in value.split(",") if part.strip()]
