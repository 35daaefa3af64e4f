"""lm-eval's chat client, metered by the site, against a real HTTP server serving the tiny
model: retries, cache, budget, usage, rate limits, the key, and lm-eval's chat pitfalls."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from evaluation.errors import ModelError
from evaluation.lm_eval_runner import load_lm
from evaluation.providers import BudgetExceeded, Usage, metering
from evaluation.providers.client import ProviderUnavailable
from evaluation.providers.letters import BLOCKED
from evaluation.spec import ModelSpec, Serving
from tests.openai_server import OpenAIServer

KEY = "sk-test-9f8e7d6c5b4a"
CHAT = "/v1/chat/completions"


@pytest.fixture
def server(tiny_model: Path):
    with OpenAIServer(tiny_model) as running:
        yield running


def chat_spec(server: OpenAIServer, name: str = "tiny-chat", **serving: Any) -> ModelSpec:
    return ModelSpec(
        kind="openai-chat",
        pretrained=name,
        base_url=server.chat_url,
        batch_size=1,
        apply_chat_template=True,
        api_key_env="TINY_PROVIDER_KEY",
        serving=Serving(**({"timeout_s": 10} | serving)),
    )


def ask(lm: Any, prompts: list[str], until: list[str] | None = None) -> list[str]:
    from lm_eval.api.instance import Instance
    from lm_eval.models.api_models import JsonChatStr

    kwargs = {"until": until or ["\n\n"], "max_gen_toks": 3, "do_sample": False}
    requests = [
        Instance(
            request_type="generate_until",
            doc={},
            arguments=(JsonChatStr(json.dumps([{"role": "user", "content": p}])), dict(kwargs)),
            idx=0,
        )
        for p in prompts
    ]
    texts: list[str] = lm.generate_until(requests)
    return texts


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINY_PROVIDER_KEY", KEY)


def test_it_retries_429_500_timeouts_and_malformed_json_then_answers(server, tmp_path):
    server.slow_s = 6.0
    server.inject("429", "500", "slow", "malformed")
    with metering(cache_dir=tmp_path) as session:
        lm = load_lm(chat_spec(server, timeout_s=4), "cpu")
        lm.retry_backoff_s = 0.01
        lm.attempts = 5
        [text] = ask(lm, ["Your Answer:"])
    assert isinstance(text, str)
    assert len(server.requests_to(CHAT)) == 5
    assert session.usage.retries == 4
    assert session.usage.requests == 1  # only the answer that came back is billed


def test_it_gives_up_after_its_retries_as_an_infrastructure_failure(server):
    server.inject("500", "500", "500")
    with metering():
        lm = load_lm(chat_spec(server), "cpu")
        lm.retry_backoff_s = 0.01
        lm.attempts = 3
        with pytest.raises(ProviderUnavailable, match="HTTP 500 after 3 attempts"):
            ask(lm, ["Your Answer:"])


def test_a_retried_job_is_answered_from_the_cache_and_pays_once(server, tmp_path):
    spec = chat_spec(server, input_price_per_m=1_000.0, output_price_per_m=2_000.0)
    with metering(cache_dir=tmp_path) as first:
        first_texts = ask(load_lm(spec, "cpu"), ["Q: one?", "Q: two?"])
    with metering(cache_dir=tmp_path) as second:
        second_texts = ask(load_lm(spec, "cpu"), ["Q: one?", "Q: two?"])
    assert second_texts == first_texts
    assert len(server.requests_to(CHAT)) == 2
    assert (first.usage.requests, second.usage.requests, second.usage.cached) == (2, 0, 2)
    assert first.usage.cost_usd > 0 and second.usage.cost_usd == 0
    usage = [server.chat_completions(body)["usage"] for body in server.requests_to(CHAT)]
    tokens_in = sum(u["prompt_tokens"] for u in usage)
    tokens_out = sum(u["completion_tokens"] for u in usage)
    assert (first.usage.input_tokens, first.usage.output_tokens) == (tokens_in, tokens_out)
    assert first.usage.cost_usd == pytest.approx((tokens_in * 1000 + tokens_out * 2000) / 1e6)


def test_the_budget_stops_the_job_with_its_reason(server):
    spec = chat_spec(server, input_price_per_m=5e3)  # half a cent a token: a few requests
    with metering(budget_usd=0.5) as session:
        lm = load_lm(spec, "cpu")
        with pytest.raises(BudgetExceeded, match=r"budget of \$0.5000 is spent") as stop:
            ask(lm, [f"Q: question number {i}?" for i in range(40)])
    assert 0 < session.usage.requests == len(server.requests_to(CHAT)) < 40
    assert session.usage.cost_usd <= 0.5
    assert f"after {session.usage.requests} requests; the next could cost up to $" in str(
        stop.value
    )


def test_a_request_the_budget_cannot_pay_for_is_never_sent(server):
    spec = chat_spec(server, input_price_per_m=1e6)  # a dollar a token
    with metering(budget_usd=0.5) as session, pytest.raises(BudgetExceeded):
        ask(load_lm(spec, "cpu"), ["Q: one?"])
    assert server.requests_to(CHAT) == [] and session.usage.requests == 0


def test_it_spaces_requests_to_the_providers_rate(server):
    lm = load_lm(chat_spec(server, requests_per_minute=600), "cpu")  # 0.1 s apart
    started = time.monotonic()
    ask(lm, ["a", "b", "c", "d"])
    assert time.monotonic() - started >= 0.3


def test_it_sends_one_conversation_per_request_and_concurrently(server):
    lm = load_lm(chat_spec(server, concurrency=3), "cpu")
    assert lm._batch_size == 1
    texts = ask(lm, ["a", "b", "c", "d", "e"])
    assert len(texts) == 5
    bodies = server.requests_to(CHAT)
    assert sorted(b["messages"][0]["content"] for b in bodies) == ["a", "b", "c", "d", "e"]


def test_a_name_with_5_in_it_keeps_its_stop_sequences_and_temperature(server):
    """lm-eval's `openai-chat-completions` drops `stop` and forces temperature 1 for names
    containing "o1", "o3", "o4" or "5"; "qwen2.5" matches, so the site does not use it."""
    ask(load_lm(chat_spec(server, name="qwen2.5-7b-instruct"), "cpu"), ["x"], until=["\n"])
    [body] = server.requests_to(CHAT)
    assert body["stop"] == ["\n"] and body["temperature"] == 0


def test_more_than_four_stop_sequences_are_refused_not_cut(server):
    lm = load_lm(chat_spec(server), "cpu")
    with pytest.raises(ModelError, match="at most 4 stop sequences"):
        ask(lm, ["x"], until=["1", "2", "3", "4", "5"])
    assert server.requests_to(CHAT) == []


def test_a_blocked_answer_is_marked_blocked_not_empty(server):
    server.inject("blocked")
    [text] = ask(load_lm(chat_spec(server), "cpu"), ["x"])
    assert text == BLOCKED.format(reason="content_filter")


def test_the_key_is_sent_and_never_appears_in_an_error(server, monkeypatch):
    ask(load_lm(chat_spec(server), "cpu"), ["x"])
    assert server.headers[-1]["Authorization"] == f"Bearer {KEY}"

    def echo_the_key(body: dict[str, Any]) -> dict[str, Any]:
        raise ValueError(f"bad key {KEY}")  # a server that echoes what it was sent

    monkeypatch.setattr(server, "chat_completions", lambda body, fault="": echo_the_key(body))
    with pytest.raises(ModelError) as caught:
        ask(load_lm(chat_spec(server), "cpu"), ["y"])
    assert "HTTP 400" in str(caught.value) and KEY not in str(caught.value)
    assert "[redacted]" in str(caught.value)


# A key with no piece of four characters that an error message would hold anyway.
ODD_KEY = "sk-Zq8vW3xK7pR2mN5tY9bC4jH6gF1dQ0u"


def key_pieces(text: str, key: str = ODD_KEY) -> list[str]:
    return [key[i : i + 4] for i in range(len(key) - 3) if key[i : i + 4] in text]


def test_no_piece_of_the_key_survives_the_cut_of_an_error_body_at_any_offset(server, monkeypatch):
    monkeypatch.setenv("TINY_PROVIDER_KEY", ODD_KEY)
    padding = {"chars": 0}

    def echo_the_key(body: dict[str, Any], fault: str = "") -> dict[str, Any]:
        raise ValueError("." * padding["chars"] + f"bad key {ODD_KEY}, try again later")

    monkeypatch.setattr(server, "chat_completions", echo_the_key)
    lm = load_lm(chat_spec(server), "cpu")
    # The body is OpenAI's error shape: the key starts 23 + padding + 8 characters in, so
    # these offsets put it wholly before, across and wholly after the 300-character cut.
    for chars in range(300 - 31 - len(ODD_KEY) - 2, 300 - 31 + 3):
        padding["chars"] = chars
        with pytest.raises(ModelError) as caught:
            ask(lm, ["x"])
        assert "HTTP 400" in str(caught.value)
        assert key_pieces(str(caught.value)) == [], (chars, str(caught.value)[-60:])


def test_a_quoted_body_that_starts_or_ends_inside_the_key_loses_that_piece():
    from evaluation.providers.secrets import redact

    for size in range(4, len(ODD_KEY)):
        assert key_pieces(redact("error: " + ODD_KEY[:size], [ODD_KEY])) == []
        assert key_pieces(redact(ODD_KEY[-size:] + " was refused", [ODD_KEY])) == []
    assert redact("abc " + ODD_KEY + " def", [ODD_KEY], limit=12) == "abc [redacte"
    assert redact("ok sk-", [ODD_KEY]) == "ok sk-"  # too short to be told from text


def test_a_missing_secret_names_the_variable(server, monkeypatch):
    monkeypatch.delenv("TINY_PROVIDER_KEY")
    with pytest.raises(ModelError, match="TINY_PROVIDER_KEY or TINY_PROVIDER_KEY_FILE"):
        load_lm(chat_spec(server), "cpu")


def test_the_secret_may_come_from_a_file(server, monkeypatch, tmp_path):
    monkeypatch.delenv("TINY_PROVIDER_KEY")
    (tmp_path / "key").write_text(KEY + "\n")
    monkeypatch.setenv("TINY_PROVIDER_KEY_FILE", str(tmp_path / "key"))
    ask(load_lm(chat_spec(server), "cpu"), ["x"])
    assert server.headers[-1]["Authorization"] == f"Bearer {KEY}"


def test_a_key_with_a_trailing_newline_is_sent_trimmed(server, monkeypatch):
    # As `kubectl create secret --from-file` leaves it: requests refuses such a header with
    # an error that quotes the value, which the job's log would then have shown.
    monkeypatch.setenv("TINY_PROVIDER_KEY", KEY + "\n")
    ask(load_lm(chat_spec(server), "cpu"), ["x"])
    assert server.headers[-1]["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("value", [f"{KEY}\n{KEY}", f"{KEY} extra", f"{KEY}\u00e9"])
def test_a_key_that_cannot_be_a_header_is_refused_without_quoting_it(server, monkeypatch, value):
    monkeypatch.setenv("TINY_PROVIDER_KEY", value)
    with pytest.raises(ModelError) as caught:
        ask(load_lm(chat_spec(server), "cpu"), ["x"])
    assert "TINY_PROVIDER_KEY" in str(caught.value)
    assert KEY not in str(caught.value) and KEY not in repr(caught.value.__cause__)
    assert server.headers == []


def test_a_judge_can_ask_one_conversation_outside_a_task(server, tmp_path):
    messages = [{"role": "system", "content": "Score 0-100."}, {"role": "user", "content": "x"}]
    with metering(cache_dir=tmp_path) as session:
        lm = load_lm(chat_spec(server), "endpoint")
        server.inject("500", "reply:87")
        lm.retry_backoff_s = 0.01
        assert lm.chat(messages, max_tokens=4) == "87"
        assert lm.chat(messages, max_tokens=4) == "87"  # the cache answers the second time
    [first, second] = server.requests_to(CHAT)
    assert first == second and first["messages"] == messages and first["max_tokens"] == 4
    assert (session.usage.requests, session.usage.cached, session.usage.retries) == (1, 1, 1)


def test_an_answer_from_a_server_that_ignores_stop_is_cut_at_the_stop_sequences(server):
    server.honours_stop = False
    server.inject("reply:B\n\nQuestion: Is it so?\nAnswer: A", "reply:87 points\nThis is more")
    lm = load_lm(chat_spec(server), "endpoint")
    assert ask(lm, ["x"], until=["\n\n", "\nQuestion:"]) == ["B"]
    assert lm.chat([{"role": "user", "content": "y"}], stop=["\nThis"]) == "87 points"
    assert server.requests_to(CHAT)[0]["stop"] == ["\n\n", "\nQuestion:"]


def test_requests_in_flight_never_take_the_spend_past_the_budget(server):
    """Four requests at a time: each is sent only once the budget can pay for the most it
    may cost, so the spend stays within the budget; the stop counts what was billed."""
    spec = chat_spec(server, concurrency=4, input_price_per_m=1.0, output_price_per_m=1.0)
    with metering(budget_usd=0.0003) as session:
        lm = load_lm(spec, "cpu")
        with pytest.raises(BudgetExceeded):
            ask(lm, [f"Q: question number {i}?" for i in range(40)])
    assert 0 < session.usage.requests < 40
    assert session.usage.requests == len(server.requests_to(CHAT))
    assert session.usage.cost_usd <= 0.0003
    assert session.reserved_usd == 0
    assert f"after {session.usage.requests} requests" in str(session.budget_exceeded())


def test_a_retried_jobs_spend_counts_against_its_budget(server):
    """A job's second try starts from the usage its first recorded, not from zero: a budget
    the first try spent sends nothing more."""
    spec = chat_spec(server, input_price_per_m=1.0, output_price_per_m=1.0)
    prompts = [f"Q: question number {i}?" for i in range(40)]
    with metering(budget_usd=0.0003) as first, pytest.raises(BudgetExceeded):
        ask(load_lm(spec, "cpu"), prompts)
    sent = len(server.requests_to(CHAT))
    spent = Usage.from_dict(first.usage.to_dict() | {"budget_usd": 0.0003})
    assert spent.requests == first.usage.requests == sent
    assert spent.cost_usd == pytest.approx(first.usage.cost_usd)
    with (
        metering(budget_usd=0.0003, usage=spent) as second,
        pytest.raises(BudgetExceeded, match=f"after {sent} requests"),
    ):
        ask(load_lm(spec, "cpu"), prompts)
    assert len(server.requests_to(CHAT)) == sent and second.usage.requests == sent
