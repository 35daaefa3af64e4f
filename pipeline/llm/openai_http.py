"""OpenAI-compatible HTTP backend: a vLLM server (`vllm serve MODEL`) or any hosted provider.

`chat=False` posts to `{base_url}/completions` (raw prompt, what vLLM serves for base models);
`chat=True` posts each prompt as one user message to `{base_url}/chat/completions`. The API key
is read from the environment variable named by `api_key_env` and is never stored in a config.
Requests run `concurrency` at a time because servers such as vLLM batch them internally.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pipeline.llm.base import LLMBackend, LLMError

RETRY_STATUS = {408, 429, 500, 502, 503, 504}


class OpenAIBackend(LLMBackend):
    backend_id = "openai"

    def __init__(
        self,
        model: str,
        base_url: str = "http://127.0.0.1:8000/v1",
        chat: bool = False,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 120.0,
        max_retries: int = 3,
        concurrency: int = 4,
        stop: list[str] | None = None,
    ) -> None:
        if not model:
            raise ValueError("the openai backend needs `model` (the served model name)")
        super().__init__(model)
        self.base_url = base_url.rstrip("/")
        self.chat = chat
        self.api_key = os.environ.get(api_key_env, "")
        self.timeout = timeout
        self.max_retries = max_retries
        self.concurrency = max(1, concurrency)
        self.stop = stop

    def generate(self, prompts: list[str], max_tokens: int, temperature: float) -> list[str]:
        def one(prompt: str) -> str:
            return self._complete(prompt, max_tokens, temperature)

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(one, prompts))

    def _complete(self, prompt: str, max_tokens: int, temperature: float) -> str:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if self.stop:
            body["stop"] = self.stop
        if self.chat:
            body["messages"] = [{"role": "user", "content": prompt}]
            url = f"{self.base_url}/chat/completions"
        else:
            body["prompt"] = prompt
            url = f"{self.base_url}/completions"
        data = self._post(url, body)
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] if self.chat else choice["text"]
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMError(f"{url}: unexpected response shape: {str(data)[:200]}") from exc
        if not isinstance(text, str):
            raise LLMError(f"{url}: completion text is not a string: {text!r}")
        return text

    def _post(self, url: str, body: dict[str, Any]) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        payload = json.dumps(body).encode("utf-8")
        last_error = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(min(2.0**attempt * 0.25, 10.0))
            request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode("utf-8", "replace")[:300]
                last_error = f"HTTP {exc.code}: {detail}"
                if exc.code not in RETRY_STATUS:
                    break
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last_error = str(exc)
            except json.JSONDecodeError as exc:
                raise LLMError(f"{url}: response is not JSON: {exc}") from exc
        raise LLMError(f"{url}: request failed after {attempt + 1} attempt(s): {last_error}")
