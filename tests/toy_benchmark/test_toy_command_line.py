"""Issue 19, item 2: a benchmark the evaluation core has never heard of (this folder's toy) runs
from the command line: `python -m evaluation run`, `export-tasks` and `align`, each naming it
with `--benchmark` and narrowing it with `--slice`, on a tiny model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evaluation.benchmarks import register, unregister
from evaluation.cli import main
from evaluation.release import iter_items, write_benchmark_release
from tests.tiny_models import build_tiny_model
from tests.toy_benchmark import BENCHMARK, REGISTRATION

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def toy() -> Iterator[None]:
    slug, _, target = REGISTRATION.partition("=")
    register(slug, target)
    yield
    unregister(slug)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("toy-release")
    items = list(iter_items(BENCHMARK.demo_dir, BENCHMARK.items_file))
    write_benchmark_release(directory, BENCHMARK, items, {"version": "toy-1"})
    return directory


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny")


def test_export_tasks_writes_the_toys_task_for_the_slices_asked(toy, release, tmp_path, capsys):
    argv = ["export-tasks", "--benchmark", "toy", str(release), str(tmp_path)]
    assert main([*argv, "--slice", "country=bb", "--slice", "topic=food"]) == 0
    assert "pick: 1 task(s): toy_pick" in capsys.readouterr().out
    docs = [json.loads(line) for line in (tmp_path / "toy_pick.jsonl").read_text().splitlines()]
    assert [d["uid"] for d in docs] == ["toy-05", "toy-06"]
    assert main([*argv, "--slice", "nation=us"]) == 2
    assert "no slice dimension nation" in capsys.readouterr().err


def test_every_command_names_its_benchmark(toy, release, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["export-tasks", str(release), str(tmp_path)])
    assert "--benchmark" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export-tasks", "--benchmark", "nope", str(release), str(tmp_path)])
    assert "unknown benchmark 'nope'" in capsys.readouterr().err


@pytest.mark.slow
def test_run_scores_the_toy_on_a_tiny_model_in_a_fresh_process(release, tiny, tmp_path):
    """The real command in its own process, which finds the toy as every process does: by
    EVAL_EXTRA_BENCHMARKS."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "evaluation", "run", "--benchmark", "toy"]
    command += ["--model", str(tiny), "--dtype", "float32", "--device", "cpu"]
    command += ["--release", str(release), "--slice", "country=aa", "--out", str(out)]
    env = {**os.environ, "EVAL_EXTRA_BENCHMARKS": REGISTRATION}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "aa/food" in done.stdout and "aa/sport" in done.stdout and "bb/" not in done.stdout
    results = json.loads((out / "results.json").read_text())
    assert {tuple(s["slices"].values()) for s in results["scores"]} == {
        ("aa", "food"),
        ("aa", "sport"),
    }
    samples = (out / "samples.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["uid"] for line in samples) == [
        f"toy-0{i}" for i in (1, 2, 3, 4)
    ]
    assert (out / "tasks" / "toy_pick.yaml").is_file()


@pytest.mark.slow
def test_align_trains_the_toy_toward_a_country_and_writes_what_to_score(
    toy, release, tiny, tmp_path, capsys
):
    out = tmp_path / "out"
    argv = ["align", "--benchmark", "toy", str(release), "--slice", "country=aa"]
    argv += ["--model", str(tiny), "--device", "cpu", "--lr", "1e-3", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    pairs = [json.loads(line) for line in (out / "train_pairs.jsonl").read_text().splitlines()]
    assert [p["prompt"] for p in pairs] == [
        "The bread is (aa)",
        "Soup is served (aa)",
        "The ball is (aa)",
    ]
    assert pairs[0]["chosen"] == " baked" and pairs[0]["rejected"] == " frozen solid"
    # The held-out item of the country and every other country's items are scored.
    scored = {i["uid"] for i in iter_items(out / "heldout", BENCHMARK.items_file)}
    assert scored == {"toy-04", "toy-05", "toy-06", "toy-07", "toy-08"}
    card = json.loads((out / "alignment.json").read_text())
    assert card["steps"] == 2  # the toy's declared setting
    assert (out / "adapter").is_dir()
    assert "export-tasks --benchmark toy" in printed
