"""Tiny offline models and a tiny release, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.benchmarks.navab import MODES, NATIONS
from evaluation.benchmarks.navab.records import TripleRecord, write_release
from evaluation.spec import ModelSpec
from tests.tiny_models import build_tiny_model

PER_CELL = 2


def tiny_records(per_cell: int = PER_CELL) -> list[TripleRecord]:
    return [
        TripleRecord(
            uid=f"{nation}-{mode}-{i:02d}",
            nation=nation,
            mode=mode,
            question=f"Should {nation} adopt policy {i} ({mode})?",
            statement=f"{nation} supports policy {i}.",
            reverse_statement=f"{nation} opposes policy {i}.",
        )
        for nation in (n.code for n in NATIONS)
        for mode in (m.code for m in MODES if m.scored)
        for i in range(per_cell)
    ]


@pytest.fixture(scope="session")
def tiny_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("release")
    write_release(directory, tiny_records(), {"version": "test-1"})
    return directory


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-gpt2")


@pytest.fixture(scope="session")
def letter_a_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "always-a", always_next=" A")


def cpu_spec(path: Path, **kwargs: object) -> ModelSpec:
    return ModelSpec(pretrained=str(path), dtype="float32", batch_size=4, **kwargs)  # type: ignore[arg-type]
