"""LLM backends behind one small interface (`LLMBackend.generate`), created by name.

Backends are imported lazily, so the HTTP backend works on a machine without torch:

    backend = make_backend(LLMSpec(backend="openai", model="m", options={"base_url": ...}))
"""

from pipeline.llm.base import LLMBackend, LLMError
from pipeline.llm.cache import CachedLLM
from pipeline.llm.registry import BACKENDS, make_backend

__all__ = ["BACKENDS", "CachedLLM", "LLMBackend", "LLMError", "make_backend"]
