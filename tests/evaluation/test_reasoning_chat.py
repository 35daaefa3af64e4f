"""A chat model's generation settings, sent by the metered client to a real HTTP server: a
reasoning API that refuses `stop`, `temperature` and `max_tokens` as OpenAI's o-series does
(400 with OpenAI's error shape), thinking kept raw and stripped before parsing, and answers
cut off by the token limit counted apart from unparsable ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evaluation.errors import ModelError
from evaluation.lm_eval_runner import load_lm
from evaluation.providers.generation import Generation
from evaluation.providers.letters import TRUNCATED, parse_letter
from evaluation.spec import ModelSpec, Serving
from tests.openai_server import BadRequest, Json, OpenAIServer

CHAT = "/v1/chat/completions"
THINKING = "The statement favours the first nation; its reverse does not. Weighing A and B."
#: the thinking's length in tokens, as this server counts them (one per word)
THINKING_TOKENS = len(THINKING.split())


def o_series(body: Json) -> Json:
    """OpenAI's reasoning models as their API answers: parameters they do not take are
    refused by name; the thinking is spent from `max_completion_tokens` first, and an answer
    the limit cuts off says so (`finish_reason: "length"`)."""
    for param, why in (
        ("stop", "'stop' is not supported with this model."),
        ("temperature", "'temperature' does not support 0 with this model."),
        (
            "max_tokens",
            "'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        ),
    ):
        if param in body:
            code = "unsupported_value" if param == "temperature" else "unsupported_parameter"
            raise BadRequest(f"Unsupported parameter: {why}", param=param, code=code)
    limit = body.get("max_completion_tokens")
    cut = limit is not None and int(limit) <= THINKING_TOKENS
    system = [m["content"] for m in body["messages"] if m.get("role") == "system"]
    return {
        "id": "chatcmpl-o",
        "object": "chat.completion",
        "model": body.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "" if cut else "B",
                    "reasoning_content": THINKING,
                },
                "finish_reason": "length" if cut else "stop",
            }
        ],
        "usage": {"prompt_tokens": 20 + len(" ".join(system).split()), "completion_tokens": 5},
    }


@pytest.fixture
def server(tiny_model: Path):
    with OpenAIServer(tiny_model) as running:
        yield running


@pytest.fixture
def reasoning_server(server: OpenAIServer) -> OpenAIServer:
    server.routes[CHAT] = o_series
    return server


def chat_lm(server: OpenAIServer, generation: Generation | None) -> Any:
    spec = ModelSpec(
        kind="openai-chat",
        pretrained="o-tiny",
        base_url=server.chat_url,
        batch_size=1,
        apply_chat_template=True,
        serving=Serving(timeout_s=10, max_retries=1),
        generation=generation,
    )
    return load_lm(spec, "cpu")


def ask(lm: Any, prompt: str, max_gen_toks: int = 64) -> str:
    from lm_eval.api.instance import Instance
    from lm_eval.models.api_models import JsonChatStr

    kwargs = {"until": ["\n\n"], "max_gen_toks": max_gen_toks, "do_sample": False}
    request = Instance(
        request_type="generate_until",
        doc={},
        arguments=(JsonChatStr(json.dumps([{"role": "user", "content": prompt}])), kwargs),
        idx=0,
    )
    [text] = lm.generate_until([request])
    return str(text)


def test_the_default_payload_is_refused_by_a_reasoning_api_with_its_reason(reasoning_server):
    lm = chat_lm(reasoning_server, None)
    with pytest.raises(ModelError, match=r"HTTP 400.*Unsupported parameter: 'stop'"):
        ask(lm, "Answer A or B.")


def test_reasoning_mode_sends_no_stop_nor_temperature_and_max_completion_tokens(
    reasoning_server,
):
    lm = chat_lm(reasoning_server, Generation(reasoning=True, reasoning_effort="low"))
    text = ask(lm, "Answer A or B.", max_gen_toks=200)
    [body] = reasoning_server.requests_to(CHAT)
    assert "stop" not in body and "temperature" not in body and "max_tokens" not in body
    assert body["max_completion_tokens"] == 200
    assert body["reasoning_effort"] == "low"
    assert text.endswith("B")


def test_thinking_beside_the_answer_is_kept_raw_and_stripped_before_parsing(reasoning_server):
    lm = chat_lm(reasoning_server, Generation(reasoning=True))
    text = ask(lm, "Answer A or B.", max_gen_toks=200)
    assert text == f"<think>{THINKING}</think>B"  # the raw record keeps the thinking
    # The thinking names both letters: read as it is, it would be ambiguous.
    assert parse_letter(text) == ("B", "strict")


def test_an_answer_cut_off_by_the_token_limit_is_counted_apart_from_unparsable(
    reasoning_server,
):
    lm = chat_lm(reasoning_server, Generation(reasoning=True))
    text = ask(lm, "Answer A or B.", max_gen_toks=THINKING_TOKENS)
    assert text == f"<think>{THINKING}</think>{TRUNCATED}"
    assert parse_letter(text) == (None, "truncated")
    # Finished but unreadable is still unparsable; cut off after its letter still counts.
    assert parse_letter("Let me think about it") == (None, "unparsable")
    assert parse_letter(f"B. Because the statement{TRUNCATED}") == ("B", "fallback")


def test_a_thinking_block_in_the_content_cut_off_by_the_limit_is_truncated(server):
    def length_route(body: Json) -> Json:
        answer = server.chat_completions(body, "reply:<think>Option A has merit, but")
        answer["choices"][0]["finish_reason"] = "length"
        return answer

    server.routes[CHAT] = length_route
    text = ask(chat_lm(server, Generation(max_tokens=8)), "Answer A or B.")
    assert parse_letter(text) == (None, "truncated")


def test_system_prompt_temperature_and_max_tokens_are_sent_as_chosen(server):
    lm = chat_lm(server, Generation(max_tokens=5, temperature=0.7, system_prompt="Be brief."))
    ask(lm, "Your Answer:")
    [body] = server.requests_to(CHAT)
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["messages"][1]["role"] == "user"
    assert body["temperature"] == 0.7
    assert body["max_tokens"] == 5
    assert body["stop"] == ["\n\n"]


def test_the_default_settings_send_what_every_chat_model_was_sent_before(server):
    def answered(body: Json) -> Json:  # 128 tokens of the tiny model would take a while
        return {"choices": [{"index": 0, "message": {"content": "A"}, "finish_reason": "stop"}]}

    server.routes[CHAT] = answered
    ask(chat_lm(server, None), "Your Answer:", max_gen_toks=128)
    [body] = server.requests_to(CHAT)
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert (body["max_tokens"], body["temperature"], body["stop"]) == (128, 0, ["\n\n"])


def test_the_cards_commands_carry_the_settings_or_say_stock_lm_eval_cannot():
    from evaluation import repro
    from evaluation.cli import build_parser

    def spec(generation: Generation) -> ModelSpec:
        return ModelSpec(
            kind="openai-chat",
            pretrained="o-tiny",
            base_url="https://api.example/v1/chat/completions",
            batch_size=1,
            apply_chat_template=True,
            generation=generation,
        )

    reasoning = spec(Generation(max_tokens=64, reasoning=True, system_prompt="Be brief."))
    command = repro.run_command(
        reasoning, None, Path("release"), "out", benchmark="navab", methods=["mc_gen"],
        slices={}, seed=1, device="endpoint", limit=None, max_gen_toks=64,
    )  # fmt: skip
    # The site's own command repeats the run's requests: its settings are on it.
    args = build_parser().parse_args(__import__("shlex").split(command)[3:])
    assert args.generation == reasoning.generation
    stock = repro.lm_eval_command(reasoning, ["t"], "tasks", "out", seed=1, device="endpoint")
    assert stock.startswith("# Reasoning mode: stock lm-eval") and "refuse" in stock
    assert "--system_instruction 'Be brief.'" in stock

    sampled = spec(Generation(temperature=0.7))
    stock = repro.lm_eval_command(sampled, ["t"], "tasks", "out", seed=1, device="endpoint")
    assert "--gen_kwargs temperature=0.7" in stock and not stock.startswith("#")
    assert repro.lm_eval_command(spec(Generation()), ["t"], "tasks", "o", seed=1, device="x")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--model", "m", "--release", "r", "--out", "o",
                                   "--generation", '{"reasoning": 1}'])  # fmt: skip
