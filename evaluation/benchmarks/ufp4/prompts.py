"""UF-P-4's OPA prompt, as DiverValue-Bench's `scripts/eval_ufp4/` build it: the user's profile,
a newline, then the prompt (each stripped); the prompt alone where a record has no profile.
The chosen and rejected responses are scored as continuations with no separator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

OPA_TEMPLATE: Final = "{profile}\n{prompt}"


def opa_prompt(item: Mapping[str, Any]) -> str:
    profile = str(item.get("profile") or "").strip()
    prompt = str(item["prompt"]).strip()
    return OPA_TEMPLATE.format(profile=profile, prompt=prompt) if profile else prompt
