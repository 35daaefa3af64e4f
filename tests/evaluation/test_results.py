"""Result files: the generic format round-trips, and format-1 files of old jobs still read."""

import json
from dataclasses import asdict, replace

import pytest

from evaluation.benchmarks.contract import IntervalMethod, Method, Metric, MetricKind, Track
from evaluation.benchmarks.navab.definition import BENCHMARK
from evaluation.benchmarks.navab.harness import score_rows
from evaluation.results import RESULTS_FORMAT, EvaluationResult, ReproCard, SampleRecord

CARD = {
    "model": {"pretrained": "m"},
    "judge": None,
    "release": {"version": "r1"},
    "methods": ["mc"],
    "slices": {"nation": ["us"], "mode": ["quoted"]},
    "dtype": "float32",
    "batch_size": 4,
    "seed": 7,
    "device": "cpu",
    "device_name": "cpu",
    "max_gen_toks": 8,
    "limit": None,
    "versions": {},
    "command": "python -m evaluation run",
    "lm_eval_commands": [],
    "started_at": "2025-01-01T00:00:00+00:00",
    "duration_s": 1.0,
}


def _sample(uid: str, correct: bool, half: str, method: str = "mc") -> SampleRecord:
    return SampleRecord(
        uid=uid,
        method=method,
        slices={"nation": "us", "mode": "quoted"},
        value=float(correct),
        correct=correct,
        chosen="A" if correct == (half == "pos") else "B",
        parts={"half": half},
        details={"loglikelihoods": {"A": -1.0, "B": -2.0}},
    )


def test_it_reads_a_format_1_results_directory(tmp_path):
    legacy_score = {
        "nation": "us",
        "mode": "quoted",
        "method": "mc",
        "value": 0.5,
        "n": 2,
        "stderr": 0.5,
        "ci_low": 0.0,
        "ci_high": 1.0,
        "pos_rate": 1.0,
        "neg_rate": 0.0,
        "pos_n": 1,
        "neg_n": 1,
    }
    (tmp_path / "results.json").write_text(
        json.dumps({"scores": [legacy_score], "card": CARD, "n_samples": 2})
    )
    legacy_samples = [
        {
            "uid": "us-q-1",
            "nation": "us",
            "mode": "quoted",
            "method": "aj",
            "half": "neg",
            "statement_is_a": False,
            "chosen": "B",
            "correct": True,
            "loglikelihoods": {"A": -3.0, "B": -1.0},
            "answer": "Yes.",
        }
    ]
    (tmp_path / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in legacy_samples))

    result = EvaluationResult.read(tmp_path)

    (row,) = result.scores
    assert row.slices == {"nation": "us", "mode": "quoted"}
    assert (row.method, row.metric, row.value, row.n) == ("mc", "acc", 0.5, 2)
    assert row.parts == {"pos": {"value": 1.0, "n": 1}, "neg": {"value": 0.0, "n": 1}}
    (sample,) = result.samples
    assert (sample.uid, sample.method, sample.value, sample.correct) == ("us-q-1", "aj", 1.0, True)
    assert sample.parts == {"half": "neg"}
    assert sample.details == {"loglikelihoods": {"A": -3.0, "B": -1.0}, "answer": "Yes."}


def test_it_writes_the_format_version_and_reads_its_own_files_back(tmp_path):
    samples = [_sample("a", True, "pos"), _sample("b", False, "neg")]
    result = EvaluationResult(
        scores=score_rows(samples, seed=1), samples=samples, card=ReproCard(**CARD)
    )
    result.write(tmp_path)
    assert json.loads((tmp_path / "results.json").read_text())["format"] == RESULTS_FORMAT
    loaded = EvaluationResult.read(tmp_path)
    assert loaded.scores == result.scores and loaded.samples == samples


def test_samples_jsonl_holds_each_record_as_its_dataclass_dict(tmp_path):
    nested = replace(
        _sample("c", True, "pos", method="aj"),
        details={
            "answer": "Oui, l'\u00e9tat",
            "loglikelihoods": {"A": -0.5, "B": -1.5},
            "n": [1, 2],
        },
    )
    samples = [_sample("a", True, "pos"), nested]
    EvaluationResult(scores=[], samples=samples, card=ReproCard(**CARD)).write(tmp_path)
    lines = (tmp_path / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines == [json.dumps(asdict(sample), ensure_ascii=False) for sample in samples]


def test_score_rows_report_the_declared_submetrics_per_cell():
    samples = [_sample("a", True, "pos"), _sample("b", True, "pos"), _sample("c", False, "neg")]
    (row,) = score_rows(samples, seed=1)
    assert (row.metric, row.n) == ("acc", 3)
    assert row.value == pytest.approx(2 / 3)
    assert row.parts == {"pos": {"value": 1.0, "n": 2}, "neg": {"value": 0.0, "n": 1}}
    assert 0.0 <= row.ci_low <= row.value <= row.ci_high <= 1.0


def test_a_margin_metric_keeps_its_values_and_is_not_clamped_to_a_rate():
    margin = Metric("margin", "Margin", MetricKind.MARGIN, IntervalMethod.BOOTSTRAP)
    method = Method("opa", "OPA", Track.LOGLIKELIHOOD, metrics=(margin,), primary="margin")

    class Margins(type(BENCHMARK)):  # type: ignore[misc]
        methods = (method,)

    samples = [
        replace(_sample(uid, True, "pos", method="opa"), value=value, correct=None)
        for uid, value in (("a", 3.0), ("b", 5.0), ("c", 7.0))
    ]
    (row,) = score_rows(samples, seed=1, benchmark=Margins())
    assert (row.method, row.metric, row.value, row.parts) == ("opa", "margin", 5.0, {})
    assert row.ci_high > 1.0 and row.ci_low >= 3.0
