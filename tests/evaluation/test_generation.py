"""A chat model's generation settings: checked where they are built (types, bounds, what
goes together) and turned into the payload a chat-completions API is sent."""

from __future__ import annotations

import math
from typing import Any

import pytest

from evaluation.providers.generation import Generation
from evaluation.spec import ModelSpec


def lm_eval_payload() -> dict[str, Any]:
    """What lm-eval's `local-chat-completions` builds for one task request."""
    return {
        "messages": [{"role": "user", "content": "Q?"}],
        "model": "m",
        "max_tokens": 128,
        "temperature": 0,
        "stop": ["\n\n"],
        "seed": 1234,
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_tokens": 0}, "between 1 and"),
        ({"max_tokens": True}, "whole number"),
        ({"max_tokens": 12.0}, "whole number"),
        ({"max_tokens": "128"}, "whole number"),
        ({"temperature": -0.1}, "between 0 and 2"),
        ({"temperature": math.nan}, "between 0 and 2"),
        ({"temperature": "0.5"}, "must be a number"),
        ({"temperature": 0.5, "reasoning": True}, "sent no temperature"),
        ({"reasoning": "yes"}, "true or false"),
        ({"reasoning_effort": "low"}, "needs reasoning mode"),
        ({"reasoning": True, "reasoning_effort": "max"}, "one of minimal, low, medium, high"),
        ({"system_prompt": 3}, "must be text"),
        ({"system_prompt": "a\x00b"}, "NUL"),
        ({"system_prompt": "x" * 4001}, "at most 4000 characters"),
    ],
)
def test_bad_settings_are_refused_with_their_reason(fields, message):
    with pytest.raises(ValueError, match=message):
        Generation(**fields)


def test_settings_are_read_back_as_stored_and_unknown_ones_refused():
    chosen = Generation(max_tokens=64, reasoning=True, reasoning_effort="low")
    assert Generation.from_dict(chosen.to_dict()) == chosen
    assert Generation().to_dict() == {} and Generation.from_dict(None) == Generation()
    with pytest.raises(ValueError, match="unknown generation settings: temp"):
        Generation.from_dict({"temp": 0.2})
    with pytest.raises(ValueError, match="must be an object"):
        Generation.from_dict(["reasoning"])


def test_the_defaults_send_the_payload_unchanged():
    assert Generation().apply(lm_eval_payload()) == lm_eval_payload()


def test_reasoning_mode_sends_no_stop_nor_temperature_and_max_completion_tokens():
    payload = Generation(reasoning=True, reasoning_effort="medium").apply(lm_eval_payload())
    assert "stop" not in payload and "temperature" not in payload and "max_tokens" not in payload
    assert payload["max_completion_tokens"] == 128
    assert payload["reasoning_effort"] == "medium"


def test_a_system_prompt_goes_first_and_joins_a_tasks_own():
    payload = Generation(system_prompt="Be brief.").apply(lm_eval_payload())
    assert payload["messages"][0] == {"role": "system", "content": "Be brief."}
    own = lm_eval_payload() | {
        "messages": [{"role": "system", "content": "Task rules."}, {"role": "user", "content": "Q"}]
    }
    joined = Generation(system_prompt="Be brief.").apply(own)["messages"]
    assert joined[0]["content"] == "Be brief.\n\nTask rules." and len(joined) == 2


def test_max_tokens_and_temperature_replace_the_tasks():
    payload = Generation(max_tokens=16, temperature=0.3).apply(lm_eval_payload())
    assert (payload["max_tokens"], payload["temperature"], payload["stop"]) == (16, 0.3, ["\n\n"])


def test_only_chat_models_take_settings():
    with pytest.raises(ValueError, match="only apply to chat-completions models"):
        ModelSpec(pretrained="/m", kind="hf", generation=Generation(temperature=0.1))
