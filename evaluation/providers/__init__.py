"""Served models behind OpenAI-compatible endpoints: reading a provider's key on the worker,
metering a job's requests (tokens, cost, budget, response cache), lm-eval's chat client with
retries and rate limits, and parsing an answer letter from generated text.

Plain Python (no Django): the site's runner, a notebook or a judge panel can use it alone:

    spec = ModelSpec(kind="openai-chat", pretrained="MODEL", base_url=URL, batch_size=1,
                     apply_chat_template=True, api_key_env="PROVIDER_KEY", serving=Serving())
    with metering(budget_usd=2.0, cache_dir=Path("cache")) as session:
        judge = load_lm(spec, "endpoint")  # evaluation.lm_eval_runner
        text = judge.chat([{"role": "user", "content": "..."}], max_tokens=8)
    session.usage  # requests, cached, retries, tokens, cost
"""

from evaluation.providers.secrets import SecretError, read_secret
from evaluation.providers.session import BudgetExceeded, JobSession, Usage, metering

__all__ = ["BudgetExceeded", "JobSession", "SecretError", "Usage", "metering", "read_secret"]
