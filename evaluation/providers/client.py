"""lm-eval's own chat-completions client (`local-chat-completions`), metered for the site.

`MeteredChatCompletion` keeps lm-eval's payloads (`_create_payload`) and message handling, and
takes over the one HTTP call so that every request is:

- answered from the job's cache when the same model was sent the same request before (a
  retried or resumed job never pays twice), else
- sent only where the job's budget can pay for the most it may cost (reserved before it is
  sent, settled from its `usage`), spaced to the provider's requests per minute, sent with
  the provider's timeout, retried with exponential back-off (honouring `Retry-After`) on 429,
  5xx, timeouts, dropped connections and malformed JSON.

lm-eval's chat pitfalls, as of lm-eval 0.4.x, and what this client does about each:

- chat endpoints take one conversation per request: lm-eval forces batch size 1, and so does
  the site's spec; concurrency comes from `num_concurrent` parallel requests instead;
- only the first four stop sequences are sent (`stop[:4]`): a task asking for more is refused
  here rather than silently cut;
- servers that ignore `stop` return the model's invented continuation ("...\n\nQuestion:
  ... Answer: A"), which lm-eval keeps: every generated text is cut at its stop sequences
  here too, as a server honouring them would have;
- `openai-chat-completions` drops the stop sequences and forces temperature 1 for any model
  whose name contains "o1", "o3", "o4" or "5" (which "qwen2.5" matches): this client derives
  from `local-chat-completions`, which has no such rule, and the site's reproduction commands
  name that model type too;
- a response withheld by a content filter (or carrying no message) silently becomes "": here
  it becomes the `letters.BLOCKED` marker, counted as blocked, never as an empty answer.

Errors never carry the key: any header value found in a message is replaced, before any
cut, and so is a piece of one where a quoted body was cut through it.
"""

from __future__ import annotations

import copy
import email.utils
import json
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import requests
from lm_eval.api.registry import register_model
from lm_eval.models.api_models import TemplateAPI
from lm_eval.models.openai_completions import LocalChatCompletion, LocalCompletionsAPI
from lm_eval.models.utils import handle_stop_sequences

from evaluation.errors import ModelError, ProviderBusy
from evaluation.providers.generation import Generation
from evaluation.providers.letters import BLOCKED, TRUNCATED
from evaluation.providers.limits import ProviderLimiter, ProviderPaused, local_limiter
from evaluation.providers.secrets import redact
from evaluation.providers.session import Prices, current_session

MAX_STOP_SEQUENCES = 4
# How much of a refusal's body an error quotes (it becomes the job's public failure reason).
ERROR_BODY_CHARS = 300
#: the answer length a request without `max_tokens` is budgeted for
UNBOUNDED_MAX_TOKENS = 4096


class ProviderUnavailable(RuntimeError):
    """The provider kept failing (429, 5xx, timeouts): an infrastructure failure, retried
    later; answers already received are cached."""


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A `Retry-After` header as seconds from now: delay-seconds or an HTTP date (RFC 9110);
    None when absent or unreadable. A date in the past is 0."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Metered(TemplateAPI):
    """The metered HTTP call shared by the chat and the completions clients (first in their
    bases, so its `model_call` is the one every request takes)."""

    def __init__(
        self,
        *,
        input_price_per_m: float = 0.0,
        output_price_per_m: float = 0.0,
        requests_per_minute: float | None = None,
        provider_concurrency: int | None = None,
        provider_account: str | None = None,
        generation: Generation | None = None,
        retry_backoff_s: float = 0.5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.prices = Prices(float(input_price_per_m), float(output_price_per_m))
        self.generation = generation or Generation()
        self.retry_backoff_s = float(retry_backoff_s)
        # Attempts per request, counted as lm-eval counts `max_retries`; lm-eval's own retry
        # wrappers around `model_call` get one attempt, or they would multiply ours.
        self.attempts: int = max(1, int(getattr(self, "max_retries", 1)))
        self.max_retries = 1
        # Picked up here, in the thread that opened it: request threads do not inherit it.
        self.session = current_session()
        # The provider's limits, shared with every worker where the session has a Redis.
        shared = self.session.limits
        self.limiter: ProviderLimiter = (
            shared.limiter(
                str(self.base_url),
                provider_account,
                requests_per_minute,
                provider_concurrency,
                float(self.timeout),
            )
            if shared is not None
            else local_limiter(str(self.base_url), provider_account, requests_per_minute)
        )

    # -- the one HTTP call -------------------------------------------------------------

    def _redact(self, text: str, limit: int | None = None) -> str:
        values = (self._header or {}).values()
        return redact(text, [s for v in values for s in (v, v.removeprefix("Bearer "))], limit)

    def model_call(
        self,
        messages: Any,
        *,
        generate: bool = True,
        gen_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        payload = self._create_payload(
            self.create_message(messages),
            generate=generate,
            gen_kwargs=copy.deepcopy(gen_kwargs),
            seed=self._seed,
            eos=self.eos_string,
        )
        session = self.session
        key = session.cache_key(str(self.base_url), payload)
        cached = session.cached(key)
        if cached is not None:
            return cached
        reserved = session.reserve(self._worst_cost(payload))
        try:
            answer = self._send(payload)
        except BaseException:
            session.release(reserved)
            raise
        self._bill(payload, answer, reserved)
        session.store(key, answer)
        return answer

    def _send(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The provider's answer to `payload`, retried as the module says."""
        session = self.session
        problem, retry_after = "", None
        for attempt in range(self.attempts):
            if attempt:
                session.record_retry()
                time.sleep(self._backoff(attempt, retry_after))
                retry_after = None
            cap = session.retry_after_cap_s
            try:
                with self.limiter.slot(longest_pause_s=cap):
                    response = requests.post(
                        str(self.base_url),
                        json=payload,
                        headers=self.header,
                        timeout=self.timeout,
                        verify=self.verify_certificate,
                    )
            except ProviderPaused as exc:
                # Another request (of this job or another worker's) was told to wait longer
                # than a request waits in place: this job waits too, queued, not sent.
                raise ProviderBusy(
                    self._redact(
                        f"{self.base_url}: the provider asked every worker to wait, "
                        f"{exc.wait_s:.0f} s more (more than the {cap:.0f} s waited in place)"
                    ),
                    exc.wait_s,
                ) from None
            except requests.Timeout:
                problem = f"no answer within {self.timeout}s"
                continue
            except requests.ConnectionError as exc:
                problem = f"connection failed ({type(exc).__name__})"
                continue
            except requests.RequestException as exc:
                # Not retried, and not quoted: requests' messages can hold the headers sent.
                raise ModelError(
                    f"{self.base_url}: the request could not be sent ({type(exc).__name__})"
                ) from None
            status = response.status_code
            if status == 429 or status >= 500:
                problem = f"HTTP {status}"
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                if retry_after is not None:
                    self._told_to_wait(retry_after, problem)
                continue
            if not response.ok:
                raise ModelError(
                    f"{self.base_url} refused the request: HTTP {status}: "
                    + self._redact(response.text, limit=ERROR_BODY_CHARS)
                )
            try:
                answer = response.json()
            except ValueError:
                problem = "malformed JSON in the answer"
                continue
            if not isinstance(answer, dict) or not isinstance(answer.get("choices"), list):
                problem = "an answer without choices"
                continue
            return answer
        raise ProviderUnavailable(
            self._redact(f"{self.base_url}: {problem} after {self.attempts} attempts")
        )

    def _worst_cost(self, payload: dict[str, Any]) -> float:
        """The most `payload` can cost: a token is at least one byte of the prompt as sent
        (the chat template's few markers are outweighed by the JSON around each message), and
        each prompt's answer at most `max_tokens`."""
        prompt = payload.get("messages") or payload.get("prompt") or ""
        sent = len(json.dumps(prompt, ensure_ascii=False).encode())
        batched = isinstance(prompt, list) and bool(prompt) and "prompt" in payload
        prompts = len(prompt) if batched and not isinstance(prompt[0], int) else 1
        limit = payload.get("max_tokens") or payload.get("max_completion_tokens")
        most = int(limit) if isinstance(limit, int | float) else UNBOUNDED_MAX_TOKENS
        return self.prices.cost(sent, most * prompts)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """The provider's `Retry-After` as sent, else exponential back-off."""
        if retry_after is not None:
            return retry_after
        return float(self.retry_backoff_s * 2 ** (attempt - 1))

    def _told_to_wait(self, seconds: float, problem: str) -> None:
        """The provider said when to come back: every worker waits (the shared limit moves);
        past the session's cap, this run stops and the job waits instead (`ProviderBusy`)."""
        self.limiter.pause(seconds)
        cap = self.session.retry_after_cap_s
        if seconds > cap:
            raise ProviderBusy(
                self._redact(
                    f"{self.base_url}: {problem} asking to wait {seconds:.0f} s "
                    f"(more than the {cap:.0f} s waited in place)"
                ),
                seconds,
            )

    def _bill(self, payload: dict[str, Any], answer: dict[str, Any], reserved: float) -> None:
        usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else None
        if usage and "prompt_tokens" in usage:
            self.session.record(
                int(usage.get("prompt_tokens") or 0),
                int(usage.get("completion_tokens") or 0),
                self.prices,
                estimated=False,
                reserved_usd=reserved,
            )
            return
        sent = len(json.dumps(payload.get("messages") or payload.get("prompt") or ""))
        got = sum(len(text or "") for text in self.parse_generations(answer))
        self.session.record(
            sent // 4 + 1, got // 4, self.prices, estimated=True, reserved_usd=reserved
        )

    # -- generation --------------------------------------------------------------------

    def generate_until(self, requests: Sequence[Any], disable_tqdm: bool = False) -> list[str]:
        """One request per prompt, `num_concurrent` at a time; results in order, and each
        reported to the cache hook from this thread (progress writes to the database)."""

        def ask(request: Any) -> str:
            context, gen_kwargs = request.args[0], request.args[1]
            answer = self.model_call(
                messages=[self._context(context)], generate=True, gen_kwargs=gen_kwargs
            )
            return self._until_stop(str(self.parse_generations(answer)[0]), gen_kwargs)

        texts = []
        pool = ThreadPoolExecutor(max_workers=max(1, self._concurrent))
        try:
            for request, text in zip(requests, pool.map(ask, requests), strict=True):
                self.cache_hook.add_partial("generate_until", request.args[:2], text)
                texts.append(text)
        finally:
            # After a failure (the provider asked to wait, the budget is spent, a refusal),
            # requests not yet started are not sent; those in flight land (and are cached).
            pool.shutdown(wait=True, cancel_futures=True)
        return texts

    def _context(self, context: Any) -> Any:
        return context

    def _until_stop(self, text: str, gen_kwargs: dict[str, Any] | None) -> str:
        """`text` up to its first stop sequence (the ones the request sent; a reasoning
        model is sent none, and its whole answer is kept)."""
        if self.generation.reasoning:
            return text
        stops = handle_stop_sequences(
            copy.deepcopy((gen_kwargs or {}).get("until")), self.eos_string
        )
        cut = min((text.find(s) for s in stops or () if s and s in text), default=len(text))
        return text[:cut]


@register_model("metered-completions")
class MeteredCompletions(Metered, LocalCompletionsAPI):
    """`local-completions` (log-likelihoods from prompt log-probabilities), metered. Its
    log-likelihood requests go in batches of `batch_size` through the one metered call:
    lm-eval's concurrent path would bypass it, so they are not sent in parallel."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._concurrent = 1


@register_model("metered-chat-completions")
class MeteredChatCompletion(Metered, LocalChatCompletion):
    """`local-chat-completions`, metered, with lm-eval's chat pitfalls handled."""

    def _create_payload(
        self,
        messages: Any,
        generate: bool = False,
        gen_kwargs: dict[str, Any] | None = None,
        seed: int = 1234,
        eos: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        stops = handle_stop_sequences(copy.deepcopy((gen_kwargs or {}).get("until")), eos)
        sends_stop = not self.generation.reasoning
        if sends_stop and isinstance(stops, list) and len(stops) > MAX_STOP_SEQUENCES:
            raise ModelError(
                f"chat endpoints receive at most {MAX_STOP_SEQUENCES} stop sequences and "
                f"lm-eval drops the rest; this task asks for {len(stops)}: {stops!r}"
            )
        payload: dict[str, Any] = super()._create_payload(
            messages, generate=generate, gen_kwargs=gen_kwargs, seed=seed, eos=eos, **kwargs
        )
        return self.generation.apply(payload)

    def _context(self, context: Any) -> Any:
        # A task run without a chat template still reaches the endpoint as one user turn.
        return _user_turn(context) if isinstance(context, str) else context

    # -- responses ---------------------------------------------------------------------

    def parse_generations(self, outputs: Any, **kwargs: Any) -> list[str]:
        texts: list[str] = []
        for out in outputs if isinstance(outputs, list) else [outputs]:
            choices = out.get("choices") if isinstance(out, dict) else None
            if not choices:
                texts.append(BLOCKED.format(reason="no choices in the answer"))
                continue
            for choice in sorted(choices, key=lambda c: int(c.get("index", 0))):
                message = choice.get("message")
                reason = choice.get("finish_reason")
                if reason == "content_filter" or not isinstance(message, dict):
                    texts.append(BLOCKED.format(reason=reason or "no message"))
                    continue
                text = str(message.get("content") or "")
                # Thinking sent beside the answer is kept with it, as a block that parsing
                # strips (`letters.strip_thinking`): the raw record shows what the model did.
                thinking = message.get("reasoning_content") or message.get("reasoning")
                if isinstance(thinking, str) and thinking:
                    text = f"<think>{thinking}</think>{text}"
                if reason == "length":
                    text += TRUNCATED  # cut off by the token limit: counted apart
                texts.append(text)
        return texts

    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> str:
        """One conversation answered outside an lm-eval task (a judge panel asking an API
        judge), cached, metered and retried like every other request. Build the client with
        `evaluation.lm_eval_runner.load_lm(spec, "endpoint")` for an `openai-chat` spec."""
        from lm_eval.models.api_models import JsonChatStr

        context = JsonChatStr(json.dumps(messages, ensure_ascii=False))
        kwargs = {"max_gen_toks": max_tokens, "temperature": temperature, "until": list(stop)}
        answer = self.model_call(messages=[context], generate=True, gen_kwargs=kwargs)
        # A judge's output is read as it is; a cut-off one simply fails to parse.
        return self._until_stop(self.parse_generations(answer)[0], kwargs).removesuffix(TRUNCATED)


def _user_turn(prompt: str) -> Any:
    """A task run without a chat template still reaches a chat endpoint as one user turn."""
    from lm_eval.models.api_models import JsonChatStr

    return JsonChatStr(json.dumps([{"role": "user", "content": prompt}], ensure_ascii=False))
