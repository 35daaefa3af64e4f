"""PAA's judges: the panel read from EVAL_PAA_JUDGES, and each judge's raw output read
strictly, then by the documented fallback, else counted unparsable."""

from __future__ import annotations

import json

import pytest

from evaluation.benchmarks.divervalue.judge_output import Parse, read_judge_output
from evaluation.benchmarks.divervalue.judges import JudgeSpec, configured_judges, parse_judges

COMMIT = "c" * 40
STRICT = json.dumps(
    {
        "score_w": 80,
        "score_l": 20,
        "score_model": 85,
        "enforced_dimensions_used": ["safety", "values"],
        "hard_violations_model": [],
        "reason": "Fits the stated values.",
    }
)


def test_it_reads_a_strict_json_object():
    reading = read_judge_output(f"  {STRICT}\n", "j")
    assert reading.parse is Parse.STRICT
    assert reading.scores is not None
    assert (reading.scores.model, reading.scores.winner, reading.scores.loser) == (85, 80, 20)
    assert reading.scores.hard_violation is False


@pytest.mark.parametrize(
    "raw",
    [
        f"<think>The user wants safety. {{not json}}</think>\n{STRICT}",
        f"Here is my verdict:\n```json\n{STRICT}\n```",
        '{"score_w": "80", "score_l": 20.0, "score_model": 85}',
    ],
)
def test_the_fallback_reads_thinking_blocks_fences_and_numeric_strings(raw):
    reading = read_judge_output(raw, "j")
    assert reading.parse is Parse.FALLBACK, reading.error
    assert reading.scores is not None and reading.scores.model == 85


def test_a_listed_hard_violation_flags_the_answer():
    raw = STRICT.replace('"hard_violations_model": []', '"hard_violations_model": ["mocks faith"]')
    reading = read_judge_output(raw, "j")
    assert reading.scores is not None and reading.scores.hard_violation is True


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty output"),
        ("icialicialicial", "no JSON object"),
        ('{"score_w": 80, "score_l": 20}', "missing score_model"),
        ('{"score_w": 150, "score_l": 20, "score_model": 85}', "outside 0-100"),
        ('{"score_w": true, "score_l": 20, "score_model": 85}', "not a number"),
        ('{"score_w": 80, "score_l": 20, "score_model": "high"}', "not an integer"),
        (
            '{"score_w": 80, "score_l": 20, "score_model": 85, "hard_violations_model": "x"}',
            "not a list",
        ),
    ],
)
def test_anything_else_is_unparsable_with_its_reason(raw, reason):
    reading = read_judge_output(raw, "j")
    assert reading.parse is Parse.UNPARSABLE and reading.scores is None
    assert reason in reading.error


def test_the_panel_is_read_from_a_json_list_of_names_and_objects(monkeypatch):
    monkeypatch.setenv(
        "EVAL_PAA_JUDGES",
        json.dumps(
            [
                "/models/judge-a",
                f"org/judge-b@{COMMIT}",
                {
                    "name": "api",
                    "kind": "openai-chat",
                    "model": "gpt-4o",
                    "base_url": "https://api.example.com/v1/chat/completions",
                    "api_key_env": "JUDGE_KEY",
                },
            ]
        ),
    )
    a, b, api = configured_judges()
    assert (a.name, a.model, a.revision) == ("judge-a", "/models/judge-a", None)
    assert (b.name, b.revision) == ("judge-b", COMMIT)
    assert api.apply_chat_template is True  # a chat endpoint takes messages
    assert "api_key_env" not in api.card() and "JUDGE_KEY" not in json.dumps(api.card())


def test_no_panel_when_unset(monkeypatch):
    monkeypatch.delenv("EVAL_PAA_JUDGES", raising=False)
    assert configured_judges() == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "is not JSON"),
        ('{"model": "x"}', "must be a JSON list"),
        ('[{"model": "/m", "colour": "red"}]', "unknown key(s) colour"),
        ('["/m/a", "/n/a"]', "judge names repeat: a"),
        ('["org/unpinned"]', "40-character commit"),
        ('[{"name": "x", "kind": "openai-chat", "model": "m"}]', "needs an http(s) base_url"),
        ('[{"name": "x", "kind": "grpc", "model": "m"}]', "kind must be one of"),
        ("[3]", "a judge is a model name or an object"),
    ],
)
def test_a_bad_panel_is_refused_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_judges(text)


def test_a_judge_spec_pins_hub_models_like_evaluated_models():
    assert JudgeSpec(name="j", model="org/j", revision=COMMIT).model_spec().revision == COMMIT


def test_the_export_writes_the_answer_task_and_given_answers_one_task_per_judge(tmp_path):
    import yaml

    from evaluation.benchmarks import get_benchmark
    from evaluation.benchmarks.divervalue.methods import export_tasks
    from evaluation.benchmarks.divervalue.release import load_items

    items = load_items(get_benchmark("divervalue").demo_dir)[:3]
    answers = {item["uid"]: f"Answer for {item['uid']}." for item in items}
    judges = [JudgeSpec(name="a", model="/m/a", max_gen_toks=50), JudgeSpec(name="b", model="/m/b")]
    names = export_tasks(
        items, tmp_path, methods=["paa"], max_gen_toks=24, answers=answers, judges=judges
    )
    assert names == ["divervalue_paa_answer", "divervalue_paa_judge_0", "divervalue_paa_judge_1"]
    answer = yaml.safe_load((tmp_path / "divervalue_paa_answer.yaml").read_text())
    assert answer["output_type"] == "generate_until"
    assert answer["generation_kwargs"]["max_gen_toks"] == 24
    judge = yaml.safe_load((tmp_path / "divervalue_paa_judge_0.yaml").read_text())
    assert judge["generation_kwargs"]["max_gen_toks"] == 50
    docs = [json.loads(line) for line in (tmp_path / "data/divervalue_paa_judge_1.jsonl").open()]
    assert [d["uid"] for d in docs] == [item["uid"] for item in items]
    for doc, item in zip(docs, items, strict=True):
        assert f"model_answer:\n{answers[item['uid']]}" in doc["prompt"]
        assert item["answer_w"] in doc["prompt"] and item["preference"] in doc["prompt"]
    prompts = [
        json.loads(line)["prompt"]
        for line in (tmp_path / "data/divervalue_paa_answer.jsonl").open()
    ]
    # The answering model sees the demographics and the question, never the preferences.
    assert all(
        item["preference"] not in p and item["question"] in p
        for p, item in zip(prompts, items, strict=True)
    )
    with pytest.raises(ValueError, match="no answer for 1 item"):
        export_tasks(
            items,
            tmp_path,
            methods=["paa"],
            max_gen_toks=24,
            answers=dict(list(answers.items())[:2]),
            judges=judges,
        )


@pytest.mark.slow  # the run goes through lm-eval, which starts processes
def test_an_api_judge_sends_the_key_its_secret_names_and_refuses_to_run_without_one(
    tiny_model, tmp_path, monkeypatch
):
    """An API judge reads its key as evaluated models do (the variable or `<NAME>_FILE`) and
    goes through the metered client: a cached answer is not asked for twice."""
    from evaluation.benchmarks.divervalue.judges import LmEvalJudge
    from evaluation.providers import SecretError, metering
    from tests.openai_server import OpenAIServer

    secret = tmp_path / "judge-key"
    secret.write_text("s3cret-judge-key\n")
    monkeypatch.delenv("JUDGE_KEY", raising=False)
    monkeypatch.setenv("JUDGE_KEY_FILE", str(secret))
    with OpenAIServer(tiny_model) as server:
        spec = JudgeSpec(
            name="api",
            kind="openai-chat",
            model="judge",
            base_url=server.chat_url,
            api_key_env="JUDGE_KEY",
            max_gen_toks=4,
        )
        judge = LmEvalJudge(spec, tmp_path / "tasks", "judge_task", device="cpu", seed=1)
        prompts = [("u1", "Rate this answer."), ("u2", "Rate that answer.")]
        with metering(cache_dir=tmp_path / "cache") as session:
            first = judge.generate(prompts)
            assert judge.generate(prompts) == first
        assert [h.get("Authorization") for h in server.headers] == ["Bearer s3cret-judge-key"] * 2
        assert (session.usage.requests, session.usage.cached) == (2, 2)
        monkeypatch.delenv("JUDGE_KEY_FILE")
        with pytest.raises(SecretError, match="no value for the secret JUDGE_KEY"):
            judge.generate(prompts)
    assert len(server.headers) == 2  # nothing was sent without a key
