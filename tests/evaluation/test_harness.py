"""`evaluate` on tiny offline models: determinism, known outcomes, progress, results files."""

from dataclasses import asdict

import pytest

from evaluation import EvaluationResult, ModelError, ProgressEvent, SetupError
from evaluation.benchmarks.navab.harness import evaluate
from tests.evaluation.conftest import PER_CELL, cpu_spec

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tiny_model, tiny_release, tmp_path_factory):
    events: list[ProgressEvent] = []
    out = tmp_path_factory.mktemp("out")
    result = evaluate(
        cpu_spec(tiny_model),
        tiny_release,
        seed=7,
        device="cpu",
        max_gen_toks=3,
        out_dir=out,
        progress=events.append,
    )
    return result, events, out


def test_it_scores_every_nation_mode_method(run):
    result, _, _ = run
    assert len(result.scores) == 5 * 2 * 2
    assert len(result.samples) == 5 * 2 * 2 * PER_CELL
    for row in result.scores:
        assert row.n == PER_CELL and row.parts["pos"]["n"] == row.parts["neg"]["n"] == 1
        assert row.ci_low <= row.value <= row.ci_high
    aj = [s for s in result.samples if s.method == "aj"]
    assert all(s.details["answer"] is not None for s in aj)
    assert set(result.answers) == {s.uid for s in aj}


def test_scores_are_deterministic_for_a_seed(run, tiny_model, tiny_release):
    first, _, _ = run
    again = evaluate(cpu_spec(tiny_model), tiny_release, seed=7, device="cpu", max_gen_toks=3)
    assert again.scores == first.scores
    assert [asdict(s) for s in again.samples] == [asdict(s) for s in first.samples]


def test_progress_counts_every_request_up_to_the_total(run):
    _, events, _ = run
    total = events[0].total
    assert total == 5 * 2 * PER_CELL * (2 + 3)  # MC: 2 lls; AJ: 1 generation + 2 lls
    done = [e.done for e in events]
    assert done == sorted(done)
    assert events[-1] == ProgressEvent("finished", total, total)
    stages = [e.stage for e in events]
    for stage in ("loading model", "mc", "aj: answering", "aj: judging", "scoring"):
        assert stage in stages
    # Per-request reports, not just stage boundaries.
    assert len({e.done for e in events if e.stage == "mc"}) > 2


def test_results_round_trip_through_the_files_and_the_card_is_complete(run):
    result, _, out = run
    assert f"--out {out}" in result.card.command
    loaded = EvaluationResult.read(out)
    assert loaded.scores == result.scores
    assert loaded.samples == result.samples
    assert loaded.answers == result.answers
    card = loaded.card
    assert card.dtype == "float32" and card.batch_size == 4 and card.seed == 7
    assert card.device == "cpu"
    assert {"lm_eval", "transformers", "torch"} <= set(card.versions)
    assert card.release["version"] == "test-1"
    assert card.command.startswith("python -m evaluation run --benchmark navab --kind hf --model ")
    assert any(c.startswith("lm_eval run --model hf") for c in card.lm_eval_commands)


def test_a_model_that_always_answers_a_scores_by_position(letter_a_model, tiny_release):
    result = evaluate(cpu_spec(letter_a_model), tiny_release, seed=1, device="cpu", max_gen_toks=2)
    for row in result.scores:
        assert (row.parts["pos"]["value"], row.parts["neg"]["value"], row.value) == (1.0, 0.0, 0.5)
    assert {s.chosen for s in result.samples} == {"A"}
    assert all(s.correct == (s.parts["half"] == "pos") for s in result.samples)


def test_a_judge_model_scores_the_answers(tiny_model, letter_a_model, tiny_release):
    result = evaluate(
        cpu_spec(tiny_model),
        tiny_release,
        methods=["aj"],
        nations=["us"],
        modes=["quoted"],
        judge=cpu_spec(letter_a_model),
        device="cpu",
        max_gen_toks=2,
    )
    (row,) = result.scores
    assert (row.method, row.parts["pos"]["value"], row.parts["neg"]["value"]) == ("aj", 1.0, 0.0)
    assert result.card.judge is not None
    assert "--judge" in result.card.command


def test_limit_keeps_both_halves_and_filters_apply(tiny_model, tiny_release):
    result = evaluate(
        cpu_spec(tiny_model),
        tiny_release,
        methods=["mc"],
        nations=["de", "cn"],
        modes=["official"],
        limit=1,
        device="cpu",
    )
    assert [(*r.slices.values(), r.method, r.n) for r in result.scores] == [
        ("cn", "official", "mc", 1),
        ("de", "official", "mc", 1),
    ]


def test_bad_selections_and_models_fail_clearly(tiny_model, tiny_release, tmp_path):
    # A selection the installation cannot score is its set-up's fault, not the model's.
    with pytest.raises(SetupError, match="unknown nation"):
        evaluate(cpu_spec(tiny_model), tiny_release, nations=["xx"])
    with pytest.raises(SetupError, match="unknown method"):
        evaluate(cpu_spec(tiny_model), tiny_release, methods=["free-text"])
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError):
        evaluate(cpu_spec(tmp_path), tiny_release, methods=["mc"], device="cpu")
