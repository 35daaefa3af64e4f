"""Personas and rows for job and submission tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from leaderboard.benchmark.models import DatasetRelease, Item, Mode, Nation, make_triple_uid
from leaderboard.evals.models import LanguageModel
from tests.benchmark.factories import navab, save_items


@pytest.fixture
def owner(db: None) -> User:
    return User.objects.create_user("owner", "owner@example.org", "pw-owner-123")


@pytest.fixture
def other_user(db: None) -> User:
    return User.objects.create_user("other", "other@example.org", "pw-other-123")


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_user("staff", "staff@example.org", "pw-staff-123", is_staff=True)


def make_release(version: str = "r1", per_cell: int = 2, publish: bool = True) -> DatasetRelease:
    release = DatasetRelease.objects.create(
        benchmark=navab(), version=version, title=f"Release {version}"
    )
    triples = []
    for nation in Nation.objects.all():
        for mode in Mode.objects.evaluated():
            for i in range(per_cell):
                q = f"Should {nation.name} adopt policy {i} ({mode.code})?"
                s = f"{nation.name} supports policy {i}."
                triples.append(
                    Item(
                        release=release,
                        slices={"nation": nation.code, "mode": mode.code},
                        uid=make_triple_uid(nation.code, mode.code, q, s),
                        data={
                            "question": q,
                            "statement": s,
                            "reverse_statement": f"{nation.name} opposes policy {i}.",
                            "topic": f"topic {i % 2}",
                            "language": "en",
                        },
                    )
                )
    save_items(triples)
    if publish:
        release.publish()
    return release


@pytest.fixture
def release(db: None) -> DatasetRelease:
    return make_release()


@pytest.fixture
def model(db: None, owner: User) -> LanguageModel:
    return LanguageModel.objects.create(name="org/tiny", revision="a" * 40, submitter=owner)


@pytest.fixture
def config_only_model(tmp_path: Path) -> Path:
    """A model directory with a config and no weights: enough for the submission checks."""
    directory = tmp_path / "models" / "tiny-gpt2"
    directory.mkdir(parents=True)
    config = {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "n_layer": 1,
        "n_head": 2,
        "n_embd": 16,
        "vocab_size": 100,
        "n_positions": 64,
    }
    (directory / "config.json").write_text(json.dumps(config))
    return directory


@pytest.fixture
def model_factory(db: None, owner: User, tmp_path_factory: pytest.TempPathFactory):
    """Registers a tiny offline model (built once per test) as a LanguageModel."""
    from tests.tiny_models import build_tiny_model

    def make(name: str = "tiny") -> LanguageModel:
        path = build_tiny_model(tmp_path_factory.mktemp("models") / name)
        return LanguageModel.objects.create(
            name=str(path), revision=f"local-{name}", precision="float32", submitter=owner
        )

    return make
