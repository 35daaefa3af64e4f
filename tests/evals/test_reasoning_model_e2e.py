"""A reasoning chat model end to end: submitted through the form with reasoning mode, evaluated
by a real Celery worker against a real HTTP server that refuses `stop`, `temperature` and
`max_tokens` as OpenAI's o-series API does and thinks before it answers (beside the answer,
or inside it in `<think>` blocks); the card shows the settings sent, the raw record keeps the
thinking, the letter is read without it, and answers cut off by the token limit are counted
apart from unparsable ones on the job and model pages."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest
from django.urls import reverse

from leaderboard.evals import sample_details
from leaderboard.evals.models import TERMINAL_STATUSES, EvaluationJob, JobStatus, Score
from tests.evals.test_api_model_e2e import KEY, SECRET, register
from tests.evals.test_worker_e2e import status_of, wait_for
from tests.evaluation.test_reasoning_chat import THINKING, o_series
from tests.factories import make_release
from tests.openai_server import Json, OpenAIServer
from tests.tiny_models import build_tiny_model
from tests.worker import running_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHAT = "/v1/chat/completions"
MAX_TOKENS = 64

#: what the model answers, in turn: its content, whether its thinking comes beside it
#: (`reasoning_content`, o-series and DeepSeek-R1 APIs) or in it, whether the token limit cut
#: it off, and how its letter is to be read
ANSWERS = (
    ("B", True, False, "strict"),
    ("<think>Option A or option B? B reads better.</think>A", False, False, "strict"),
    ("", True, True, "truncated"),  # every token spent thinking
    ("<think>Weighing A against B, the statement", False, True, "truncated"),
    ("It depends on who is asked.", False, False, "unparsable"),
)


@pytest.fixture
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-gpt2")


class ThinkingProvider:
    """o-series' refusals (`o_series`), then each answer in turn from ANSWERS."""

    def __init__(self) -> None:
        self.turns = itertools.cycle(ANSWERS)
        self.lock = threading.Lock()

    def __call__(self, body: Json) -> Json:
        answer = o_series(body)  # 400 for stop, temperature or max_tokens
        with self.lock:
            content, beside, cut, _ = next(self.turns)
        message = {"role": "assistant", "content": content}
        if beside:
            message["reasoning_content"] = THINKING
        answer["choices"][0] |= {"message": message, "finish_reason": "length" if cut else "stop"}
        return answer


def test_a_reasoning_model_is_evaluated_with_its_settings_and_its_cut_off_answers_counted(
    client, owner, worker_settings, tiny_model, tmp_path
):
    release = make_release("reasoning", per_cell=2)
    items = release.items.count()
    assert items % len(ANSWERS) == 0
    with OpenAIServer(tiny_model) as server:
        server.routes[CHAT] = ThinkingProvider()
        register(server)
        client.force_login(owner)
        with running_worker(tmp_path / "worker.log", {SECRET: KEY}):
            response = client.post(
                reverse("submit"),
                {
                    "name": "o-tiny",
                    "provider": "tiny-cloud",
                    "precision": "auto",
                    "model_type": "instruct",
                    "family": "tiny",
                    "max_output_tokens": MAX_TOKENS,
                    "reasoning": "on",
                    "reasoning_effort": "low",
                },
            )
            assert response.status_code == 302, response.content.decode()[-2000:]
            job = EvaluationJob.objects.get()
            wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 300, "the job to end")
    assert job.status == JobStatus.FINISHED, f"{job.failure_reason}\n{job.log_tail}"
    bodies = server.requests_to(CHAT)
    assert len(bodies) == items  # none refused, none retried
    for body in bodies:
        assert not {"stop", "temperature", "max_tokens"} & set(body)
        assert body["max_completion_tokens"] == MAX_TOKENS
        assert body["reasoning_effort"] == "low"

    # The raw record keeps the thinking; the letter was read without it.
    details = sample_details.read_job(job.pk)
    parses = sorted(parts.get("parse") for parts, _ in details.values())
    per_answer = items // len(ANSWERS)
    assert parses == sorted([parse for *_, parse in ANSWERS] * per_answer), (
        "each answer read as expected"
    )
    raw = [str(detail) for _, detail in details.values()]
    assert sum(THINKING in text for text in raw) == per_answer * 2
    assert sum("B reads better" in text for text in raw) == per_answer
    # Counted per cell, cut off apart from unparsable, summing to what the model answered.
    scores = list(Score.objects.filter(job=job, method="mc_gen", metric="acc"))
    assert len(scores) == 10
    counts = {k: sum(s.parts[k]["n"] for s in scores) for k in ("truncated", "unparsable")}
    assert counts == {"truncated": 2 * per_answer, "unparsable": per_answer}

    for page in (
        client.get(job.get_absolute_url()).content.decode(),
        client.get(job.model.get_absolute_url()).content.decode(),
    ):
        # The card says what was sent; the counts have their own columns.
        assert "reasoning: no stop sequences, no temperature, max_completion_tokens" in page
        assert "Reasoning effort</dt><dd data-generation>low" in page
        assert "Unparsable" in page and "Cut off" in page
        # The site's command repeats the requests; stock lm-eval is said not to.
        assert "--generation" in page and "reasoning&quot;: true" in page
        assert "# Reasoning mode: stock lm-eval" in page
    # Each answer's prompt says how it was asked: not "greedily", no stop sequence.
    model_page = client.get(job.model.get_absolute_url()).content.decode()
    assert "Generated in reasoning mode (sent no stop sequence, no temperature)" in model_page
    assert "Generated greedily" not in model_page and "stopping at" not in model_page
    assert "Chat template</dt><dd>the provider's (sent as chat turns)" in model_page
    item = release.items.first()
    item_page = client.get(
        reverse("item-results", args=["navab", release.version, item.uid])
    ).content.decode()
    assert "Generated in reasoning mode" in item_page
