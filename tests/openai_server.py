"""A real OpenAI-compatible HTTP server for tests, serving a tiny transformers model.

It answers what lm-eval's `local-completions` client sends, like vLLM's server does:
`POST /v1/completions` with a prompt (a string, a list of strings, or token ids), `echo` to
score the prompt itself (one log-probability per prompt token, None for the first),
`logprobs` for the top-k alternatives of each token, and `max_tokens` greedy new tokens
(0: only the echoed prompt), cut at the first `stop` string.

`POST /v1/chat/completions` answers like a chat model: the conversation becomes one prompt
(the tokenizer's chat template where it has one; the tiny models have none, so the turns'
contents joined by blank lines), the model continues it greedily for `max_tokens` (or
`max_completion_tokens`) tokens, cut at the first `stop`, and `usage` counts the prompt's and
the answer's tokens.

Set `honours_stop = False` to play a server that ignores `stop` (as some do): the model's
continuation, or a `reply:TEXT`, comes back whole. A `reply:TEXT` is otherwise cut at `stop`
like a generated answer.

Routes live in `OpenAIServer.routes` (path -> handler taking the JSON body and returning the
JSON answer), and every request is recorded in `requests` (its headers in `headers`, when it
arrived, `time.monotonic()`, in `arrived`) for tests to inspect. Faults are queued with `inject(...)`, one consumed per request, in order:

    "429", "500"    that status (429 with `Retry-After: 0`), the model not asked
    "429:VALUE"     429 with `Retry-After: VALUE` (seconds or an HTTP date)
    "slow"          the answer after `slow_s` seconds (past a short client timeout)
    "malformed"     200 with a body that is not JSON
    "blocked"       a chat answer withheld by a content filter (no content)
    "refuse"        a chat answer that is a refusal
    "think"         the model's answer behind a `<think>...</think>` block
    "reply:TEXT"    a chat answer that is TEXT

    with OpenAIServer(model_dir) as server:
        ModelSpec(kind="openai-completions", pretrained=str(model_dir), base_url=server.url)
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

Json = dict[str, Any]
Route = Callable[[Json], Json]


class BadRequest(Exception):
    """The request is malformed: answered 400 with OpenAI's error shape (`param` and `code`
    where one parameter is refused, as OpenAI names them)."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.param, self.code = param, code


class TinyModel:
    """Greedy, deterministic scoring and generation with a saved causal LM (CPU)."""

    def __init__(self, directory: Path) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(directory)
        self.model = AutoModelForCausalLM.from_pretrained(directory).eval()
        self.lock = threading.Lock()  # one forward pass at a time across handler threads

    def complete(
        self, prompt: str | list[int], max_tokens: int, echo: bool, top: int | None, stop: list[str]
    ) -> Json:
        import torch

        ids = prompt if isinstance(prompt, list) else self.tokenizer.encode(prompt)
        if not ids:
            raise BadRequest("the prompt is empty")
        with self.lock, torch.no_grad():
            new: list[int] = []
            logits = self.model(torch.tensor([ids])).logits[0]
            for _ in range(max_tokens):
                new.append(int(logits[-1].argmax()))
                logits = self.model(torch.tensor([ids + new])).logits[0]
            scored = torch.log_softmax(logits.float(), dim=-1)
        tokens = ids + new
        # Position i is scored by the logits at i - 1; the first token has no context.
        token_logprobs: list[float | None] = [None]
        top_logprobs: list[dict[str, float] | None] = [None]
        for i in range(1, len(tokens)):
            row = scored[i - 1]
            token_logprobs.append(float(row[tokens[i]]))
            if top:
                values, indices = row.topk(top)
                top_logprobs.append(
                    {
                        self.tokenizer.decode([int(t)]): float(v)
                        for v, t in zip(values, indices, strict=True)
                    }
                )
        text = self.tokenizer.decode(new)
        for marker in stop:
            if marker and marker in text:
                text = text[: text.index(marker)]
        shown = range(len(tokens)) if echo else range(len(ids), len(tokens))
        logprobs = None
        if top is not None:
            logprobs = {
                "tokens": [self.tokenizer.decode([tokens[i]]) for i in shown],
                "token_logprobs": [token_logprobs[i] for i in shown],
                "top_logprobs": [top_logprobs[i] if top else None for i in shown],
            }
        prefix = self.tokenizer.decode(ids) if echo else ""
        return {"text": prefix + text, "logprobs": logprobs, "finish_reason": "length"}


def _prompts(body: Json) -> list[str | list[int]]:
    """OpenAI's four prompt shapes: a string, strings, token ids, lists of token ids."""
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, list) and prompt:
        if all(isinstance(p, int) for p in prompt):
            return [list(prompt)]
        if all(isinstance(p, str) for p in prompt):
            return list(prompt)
        if all(isinstance(p, list) and all(isinstance(t, int) for t in p) for p in prompt):
            return [list(p) for p in prompt]
    raise BadRequest("prompt must be a string, a list of strings, or token ids")


@dataclass
class OpenAIServer:
    """The server on 127.0.0.1 (a free port) in a thread; a context manager."""

    model_dir: Path
    requests: list[tuple[str, Json]] = field(default_factory=list)
    routes: dict[str, Route] = field(default_factory=dict)
    headers: list[dict[str, str]] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)
    faults: deque[str] = field(default_factory=deque)
    slow_s: float = 3.0
    honours_stop: bool = True

    def __post_init__(self) -> None:
        self.model = TinyModel(self.model_dir)
        self.record_lock = threading.Lock()
        self.routes.setdefault("/v1/completions", self.completions)
        self.routes.setdefault("/v1/chat/completions", self.chat_completions)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The completions URL, as a model's `base_url` names it."""
        return f"http://127.0.0.1:{self.httpd.server_port}/v1/completions"

    @property
    def chat_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/v1/chat/completions"

    def inject(self, *faults: str) -> None:
        self.faults.extend(faults)

    def requests_to(self, path: str) -> list[Json]:
        return [body for route, body in self.requests if route == path]

    def __enter__(self) -> OpenAIServer:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()

    def _stops(self, body: Json) -> list[str]:
        stop = (body.get("stop") or []) if self.honours_stop else []
        return [stop] if isinstance(stop, str) else list(stop)

    def completions(self, body: Json) -> Json:
        max_tokens = int(body.get("max_tokens", 16))
        logprobs = body.get("logprobs")
        choices = [
            {
                "index": i,
                **self.model.complete(
                    prompt,
                    max_tokens,
                    bool(body.get("echo", False)),
                    None if logprobs is None else int(logprobs),
                    self._stops(body),
                ),
            }
            for i, prompt in enumerate(_prompts(body))
        ]
        return {
            "id": f"cmpl-{len(self.requests)}",
            "object": "text_completion",
            "model": body.get("model", ""),
            "choices": choices,
        }

    def chat_completions(self, body: Json, fault: str = "") -> Json:
        messages = body.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise BadRequest("messages must be a list of {role, content} objects")
        tokenizer = self.model.tokenizer
        if getattr(tokenizer, "chat_template", None):
            prompt = str(
                tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            )
        else:
            prompt = "\n\n".join(str(m.get("content", "")) for m in messages)
        max_tokens = int(body.get("max_completion_tokens") or body.get("max_tokens") or 16)
        stops = self._stops(body)
        text = self.model.complete(prompt, max_tokens, False, None, stops)["text"]
        content: str | None = text
        reason = "stop"
        if fault == "blocked":
            content, reason = None, "content_filter"
        elif fault == "refuse":
            content = "I'm sorry, but I can't help with that."
        elif fault == "think":
            content = f"<think>Option A or option B? Let me weigh both.</think>{text}"
        elif fault.startswith("reply:"):
            content = fault.removeprefix("reply:")
            for marker in stops:
                if marker and marker in content:
                    content = content[: content.index(marker)]
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "model": body.get("model", ""),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": reason,
                }
            ],
            "usage": {
                "prompt_tokens": len(tokenizer.encode(prompt)),
                "completion_tokens": len(tokenizer.encode(content or "")),
            },
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                route = server.routes.get(self.path)
                if route is None:
                    self._answer(404, {"error": {"message": f"no route {self.path}"}})
                    return
                try:
                    length = int(self.headers.get("Content-Length", "0"))
                    body = json.loads(self.rfile.read(length) or b"{}")
                    with server.record_lock:  # the lists' indexes name one request each
                        server.requests.append((self.path, body))
                        server.headers.append(dict(self.headers))
                        server.arrived.append(time.monotonic())
                        fault = server.faults.popleft() if server.faults else ""
                    if fault.startswith("429:"):
                        self._answer(
                            429,
                            {"error": {"message": "rate limited", "type": "rate_limit_error"}},
                            {"Retry-After": fault.removeprefix("429:")},
                        )
                        return
                    if fault in ("429", "500"):
                        self._answer(
                            int(fault),
                            {"error": {"message": f"injected {fault}", "type": "server_error"}},
                            {"Retry-After": "0"} if fault == "429" else {},
                        )
                        return
                    if fault == "malformed":
                        self._send(200, b'{"choices": [{"index": 0, "mess')
                        return
                    if fault == "slow":
                        time.sleep(server.slow_s)
                    # The built-in chat route plays the answer faults (think, refuse, blocked);
                    # a route a test supplies answers for itself.
                    if getattr(route, "__func__", None) is OpenAIServer.chat_completions:
                        self._answer(200, server.chat_completions(body, fault))
                    else:
                        self._answer(200, route(body))
                except (BadRequest, ValueError, TypeError) as exc:
                    error = {"message": str(exc), "type": "invalid_request_error"}
                    if isinstance(exc, BadRequest):
                        error |= {"param": exc.param, "code": exc.code}
                    self._answer(400, {"error": error})

            def _answer(
                self, status: int, payload: Json, headers: dict[str, str] | None = None
            ) -> None:
                self._send(status, json.dumps(payload).encode(), headers)

            def _send(
                self, status: int, data: bytes, headers: dict[str, str] | None = None
            ) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nobody is listening

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read `requests` instead of an access log on stderr."""

        return Handler
