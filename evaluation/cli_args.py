"""Arguments shared by the `python -m evaluation` subcommands (their parsers live apart): every
command names its benchmark (`--benchmark`) and the slice values it keeps (`--slice`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from evaluation.benchmarks import benchmark_slugs


def csv_list(value: str) -> list[str]:
    """`us, cn,` -> ["us", "cn"]."""
    return [part.strip() for part in value.split(",") if part.strip()]


def benchmark_slug(value: str) -> str:
    if value not in benchmark_slugs():
        raise argparse.ArgumentTypeError(
            f"unknown benchmark {value!r}; registered: {', '.join(benchmark_slugs())}"
        )
    return value


def add_benchmark_arguments(parser: argparse.ArgumentParser, slice_help: str) -> None:
    parser.add_argument(
        "--benchmark", required=True, type=benchmark_slug, help="a registered benchmark's slug"
    )
    parser.add_argument(
        "--slice", action="append", default=[], metavar="DIM=V1,V2", help=f"{slice_help}"
    )


def slice_values(given: Sequence[str]) -> dict[str, list[str]]:
    """`--slice DIM=V1,V2` arguments by dimension (a dimension given twice keeps both)."""
    slices: dict[str, list[str]] = {}
    for text in given:
        key, sep, values = (part.strip() for part in text.partition("="))
        if not sep or not key or not csv_list(values):
            raise ValueError(f"--slice takes DIM=V1,V2, not {text!r}")
        slices.setdefault(key, []).extend(v for v in csv_list(values) if v not in slices[key])
    return slices
