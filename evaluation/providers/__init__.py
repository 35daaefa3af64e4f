"""Served models behind OpenAI-compatible endpoints: reading a provider's key on the worker,
metering a job's requests (tokens, cost, budget, response cache), lm-eval's chat client with
retries and rate limits, and parsing an answer letter from generated text.

Plain Python (no Django): the site's runner, a notebook or a judge panel can use it alone.
"""

from evaluation.providers.secrets import SecretError, read_secret
from evaluation.providers.session import BudgetExceeded, JobSession, Usage, metering

__all__ = ["BudgetExceeded", "JobSession", "SecretError", "Usage", "metering", "read_secret"]
