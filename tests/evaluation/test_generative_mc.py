"""NaVAB MC asked of a chat model (the generative track) over real HTTP through lm-eval's own
chat client: letters read strictly then by the fallback, every unanswered item counted per
cell, position-balanced, with the stock commands on the card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.benchmarks.navab.harness import evaluate
from evaluation.errors import ModelError
from evaluation.providers import metering
from evaluation.spec import ModelSpec, Serving
from tests.evaluation.conftest import cpu_spec
from tests.openai_server import OpenAIServer

pytestmark = pytest.mark.slow

KEY = "sk-generative-0123456789"


def chat_spec(url: str) -> ModelSpec:
    return ModelSpec(
        kind="openai-chat",
        pretrained="qwen2.5-tiny-chat",
        base_url=url,
        batch_size=1,
        apply_chat_template=True,
        api_key_env="GEN_TEST_KEY",
        serving=Serving(timeout_s=5, input_price_per_m=2.0, output_price_per_m=8.0),
    )


def test_a_chat_model_is_scored_from_generated_letters_with_unanswered_items_counted(
    tiny_model, tiny_release, tmp_path, monkeypatch
):
    monkeypatch.setenv("GEN_TEST_KEY", KEY)
    with OpenAIServer(tiny_model) as server:
        # Cells are run in task order (china first); answers are consumed one per request.
        server.inject("reply:A", "reply:The answer is B", "think", "refuse", "blocked", "500")
        with metering(cache_dir=tmp_path / "cache") as session:
            result = evaluate(
                chat_spec(server.chat_url),
                tiny_release,
                seed=5,
                max_gen_toks=4,
                out_dir=tmp_path / "out",
            )
    assert {s.method for s in result.samples} == {"mc_gen"}
    statuses = [s.parts["parse"] for s in result.samples]
    assert statuses.count("strict") >= 1 and statuses.count("fallback") >= 1
    assert statuses.count("refused") == 1 and statuses.count("blocked") == 1
    for record in result.samples:
        if record.parts["parse"] not in ("strict", "fallback"):
            assert record.value == 0.0 and record.chosen == ""
    by_cell = {(r.slices["nation"], r.slices["mode"]): r for r in result.scores}
    assert sum(r.n for r in by_cell.values()) == len(result.samples)
    for row in by_cell.values():
        assert {"pos", "neg", "unparsable", "empty", "refused", "blocked"} <= set(row.parts)
        assert row.parts["pos"]["n"] == row.parts["neg"]["n"]  # position-balanced
    counted = sum(r.parts[k]["n"] for r in by_cell.values() for k in ("refused", "blocked"))
    assert counted == 2
    assert session.usage.requests == len(result.samples) and session.usage.retries == 1
    assert session.usage.cost_usd > 0

    card = result.card.to_dict()
    stock = [c for c in card["lm_eval_commands"] if "navab_mc_gen" in c]
    assert stock and "--model local-chat-completions" in stock[0]
    assert "--apply_chat_template" in stock[0] and "--batch_size 1" in stock[0]
    assert stock[0].startswith('OPENAI_API_KEY="$GEN_TEST_KEY" lm_eval')
    assert KEY not in json.dumps(card)
    assert (tmp_path / "out" / "tasks" / "utils.py").is_file()


def test_a_model_with_log_likelihoods_is_not_asked_for_generated_letters(tiny_model, tiny_release):
    with pytest.raises(ModelError, match="mc_gen cannot score a hf model"):
        evaluate(cpu_spec(tiny_model), tiny_release, methods=["mc_gen"], device="cpu")


def test_a_chat_model_is_not_scored_on_log_likelihoods(tiny_release):
    spec = chat_spec("http://127.0.0.1:9/v1/chat/completions")
    with pytest.raises(ModelError, match="mc cannot score a openai-chat model"):
        evaluate(spec, tiny_release, methods=["mc"])


def test_stock_lm_eval_with_the_cards_commands_reads_the_same_letters(
    tiny_model, tiny_release, tmp_path, monkeypatch
):
    import os
    import subprocess
    import sys

    from tests.evaluation.test_stock_parity import stock_samples

    monkeypatch.setenv("GEN_TEST_KEY", KEY)
    out = tmp_path / "out"
    with OpenAIServer(tiny_model) as server:
        # A strict letter, a fallback letter: both must be read by the stock run's utils.py.
        server.inject("reply:B", "reply:The answer is A")
        ours = evaluate(
            chat_spec(server.chat_url), tiny_release, nations=["us"], seed=5, max_gen_toks=4,
            out_dir=out,
        )  # fmt: skip
        server.inject("reply:B", "reply:The answer is A")
        for command in ours.card.lm_eval_commands:
            command = command.replace(" lm_eval run ", f" {sys.executable} -m lm_eval run ")
            command = command.replace("python -m evaluation", f"{sys.executable} -m evaluation")
            subprocess.run(
                command, shell=True, check=True, capture_output=True, cwd=tmp_path,
                # This checkout's code, wherever the package is installed from.
                env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[2])},
            )  # fmt: skip
    stock = stock_samples(out / "lm_eval" / "mc_gen")
    mine = {s.uid: s for s in ours.samples}
    assert len(stock) == len(mine)
    for sample in stock:
        record = mine[sample["doc"]["uid"]]
        assert sample["filtered_resps"][0] == record.details["response"]
        assert bool(sample["acc"]) == record.correct
    # The key reached the server through the environment, as the command names it.
    assert {h["Authorization"] for h in server.headers} == {f"Bearer {KEY}"}


def test_a_reasoning_model_is_scored_with_its_thinking_stripped_and_cut_off_answers_counted(
    tiny_model, tiny_release, tmp_path
):
    """Through the whole harness, against an API that refuses `stop` and `temperature`: the
    card records the settings, the raw answers keep the thinking, and answers the token limit
    cut off are counted per cell apart from unparsable ones."""
    from dataclasses import replace

    from evaluation.providers.generation import Generation
    from tests.evaluation.test_reasoning_chat import THINKING, o_series

    cut_every_other = iter(range(10_000))

    def sometimes_cut(body: dict) -> dict:
        # Every other request gets a limit its thinking alone spends.
        if next(cut_every_other) % 2:
            body = body | {"max_completion_tokens": 1}
        return o_series(body)

    generation = Generation(reasoning=True, reasoning_effort="low", max_tokens=64)
    spec = replace(chat_spec("http://unused"), api_key_env=None, generation=generation)
    with OpenAIServer(tiny_model) as server:
        server.routes["/v1/chat/completions"] = sometimes_cut
        result = evaluate(
            replace(spec, base_url=server.chat_url),
            tiny_release,
            seed=5,
            max_gen_toks=64,
            out_dir=tmp_path / "out",
        )
        sent = server.requests_to("/v1/chat/completions")
    assert sent and all("stop" not in b and "temperature" not in b for b in sent)
    statuses = [s.parts["parse"] for s in result.samples]
    assert statuses.count("truncated") == len(statuses) // 2
    assert statuses.count("strict") == len(statuses) - len(statuses) // 2
    assert "unparsable" not in statuses
    assert all(THINKING in s.details["response"] for s in result.samples)
    counted = sum(row.parts["truncated"]["n"] for row in result.scores)
    assert counted == len(statuses) // 2
    assert all(row.parts["unparsable"]["n"] == 0 for row in result.scores)
    assert result.card.model["generation"]["reasoning_effort"] == "low"
