import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pipeline.config import LLMSpec
from pipeline.llm import LLMError, make_backend
from pipeline.llm.openai_http import OpenAIBackend


class FakeOpenAI(BaseHTTPRequestHandler):
    """Answers /v1/completions and /v1/chat/completions by echoing the prompt upper-cased."""

    requests: list[tuple[str, dict[str, Any], str]] = []
    fail_next: list[int] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append((self.path, body, self.headers.get("Authorization", "")))
        if self.fail_next:
            self._send(self.fail_next.pop(0), {"error": "try again"})
        elif self.path == "/v1/completions":
            self._send(200, {"choices": [{"text": body["prompt"].upper(), "index": 0}]})
        elif self.path == "/v1/chat/completions":
            content = body["messages"][-1]["content"].upper()
            self._send(200, {"choices": [{"message": {"role": "assistant", "content": content}}]})
        else:
            self._send(404, {"error": "no such route"})

    def _send(self, status: int, payload: dict[str, object]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    FakeOpenAI.requests = []
    FakeOpenAI.fail_next = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def test_the_completions_endpoint_answers_in_prompt_order(server, monkeypatch):
    monkeypatch.setenv("TEST_KEY", "secret")
    backend = make_backend(
        LLMSpec(
            backend="openai", model="m", options={"base_url": server, "api_key_env": "TEST_KEY"}
        )
    )
    assert backend.generate(["a", "b", "c"], max_tokens=5, temperature=0.0) == ["A", "B", "C"]
    path, body, auth = FakeOpenAI.requests[0]
    assert path == "/v1/completions"
    assert (body["model"], body["max_tokens"], body["temperature"]) == ("m", 5, 0.0)
    assert auth == "Bearer secret"


def test_the_chat_endpoint_sends_one_user_message(server):
    backend = OpenAIBackend("m", base_url=server, chat=True, concurrency=1)
    assert backend.generate(["hello"], max_tokens=8, temperature=0.5) == ["HELLO"]
    path, body, _ = FakeOpenAI.requests[0]
    assert path == "/v1/chat/completions"
    assert body["messages"] == [{"role": "user", "content": "hello"}]


def test_it_retries_server_errors_and_reports_client_errors(server):
    FakeOpenAI.fail_next = [503]
    backend = OpenAIBackend("m", base_url=server, max_retries=2)
    assert backend.generate(["x"], 4, 0.0) == ["X"]
    FakeOpenAI.fail_next = [400]
    with pytest.raises(LLMError, match="HTTP 400"):
        backend.generate(["x"], 4, 0.0)


def test_unknown_backends_are_named_in_the_error():
    with pytest.raises(
        ValueError, match=r"unknown LLM backend 'gpt'.*openai, scripted, transformers"
    ):
        make_backend(LLMSpec(backend="gpt"))


@pytest.mark.slow
def test_the_transformers_backend_generates_with_a_tiny_local_model(tmp_path):
    from tests.tiny_models import build_tiny_model

    model_dir = build_tiny_model(tmp_path / "tiny")
    backend = make_backend(
        LLMSpec(backend="transformers", model=str(model_dir), options={"batch_size": 2})
    )
    prompts = ["Q: Should the government adopt this policy?", "Your Answer:", "nation supports"]
    batched = backend.generate(prompts, max_tokens=4, temperature=0.0)
    assert len(batched) == 3 and all(isinstance(t, str) and t for t in batched)
    # Left padding must not change greedy output: each prompt alone gives the same text.
    assert [backend.generate([p], 4, 0.0)[0] for p in prompts] == batched


def test_the_transformers_backend_reports_a_missing_model(tmp_path):
    with pytest.raises(LLMError, match="cannot load model"):
        make_backend(LLMSpec(backend="transformers", model=str(tmp_path / "absent")))
