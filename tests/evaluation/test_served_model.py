"""A served model (an OpenAI-compatible completions endpoint) is scored through lm-eval's own
API client over real HTTP, and agrees with the same weights run locally."""

from __future__ import annotations

import pytest

from evaluation.benchmarks.navab.harness import evaluate
from evaluation.spec import ModelSpec
from tests.evaluation.conftest import cpu_spec
from tests.openai_server import OpenAIServer

pytestmark = pytest.mark.slow


def test_it_scores_a_served_model_like_the_same_weights_run_locally(tiny_model, tiny_release):
    local = evaluate(cpu_spec(tiny_model), tiny_release, methods=["mc"], seed=3, device="cpu")
    with OpenAIServer(tiny_model) as server:
        spec = ModelSpec(
            kind="openai-completions", pretrained=str(tiny_model), base_url=server.url, batch_size=4
        )
        served = evaluate(spec, tiny_release, methods=["mc"], seed=3)
    # lm-eval's log-likelihood request: the prompt echoed back with its log-probabilities.
    bodies = [body for path, body in server.requests if path == "/v1/completions"]
    assert bodies and all(b["echo"] is True and b["logprobs"] for b in bodies)
    assert [(s.uid, s.chosen) for s in served.samples] == [(s.uid, s.chosen) for s in local.samples]
    for ours, theirs in zip(served.samples, local.samples, strict=True):
        assert ours.details["loglikelihoods"] == pytest.approx(
            theirs.details["loglikelihoods"], abs=1e-4
        )
    assert [(r.slices, r.value) for r in served.scores] == [
        (r.slices, r.value) for r in local.scores
    ]


def test_a_registered_completions_provider_is_metered_and_scores_the_same(
    tiny_model, tiny_release, tmp_path
):
    from evaluation.providers import metering
    from evaluation.spec import Serving

    local = evaluate(cpu_spec(tiny_model), tiny_release, methods=["mc"], seed=3, device="cpu")
    with OpenAIServer(tiny_model) as server:
        spec = ModelSpec(
            kind="openai-completions",
            pretrained=str(tiny_model),
            base_url=server.url,
            batch_size=4,
            serving=Serving(timeout_s=10, input_price_per_m=1.0),
        )
        server.inject("429", "500")
        with metering(cache_dir=tmp_path) as first:
            served = evaluate(spec, tiny_release, methods=["mc"], seed=3)
        sent = len(server.requests)
        with metering(cache_dir=tmp_path) as second:
            again = evaluate(spec, tiny_release, methods=["mc"], seed=3)
    assert [s.chosen for s in served.samples] == [s.chosen for s in local.samples]
    assert [s.chosen for s in again.samples] == [s.chosen for s in local.samples]
    assert first.usage.retries == 2 and first.usage.requests == sent - 2
    assert first.usage.cost_usd > 0 and first.usage.estimated == first.usage.requests
    assert len(server.requests) == sent  # the second run was answered from the cache
    assert second.usage.requests == 0 and second.usage.cached == first.usage.requests
