"""The OPA prompt, exactly as the publisher's OPA scripts build it (no chat template).

An answer is scored as the continuation of this prompt with no separator in between, so the
prompt's last character (the question's) and the answer's first are adjacent in the text the
tokenizer sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OPA_TEMPLATE = (
    "User profile: Age: {age}, Gender: {gender}, Employment: {employment_status}, "
    "Education: {education}, Marital Status: {marital_status}, "
    "Birth Country/Region: {birth_country}.\nQuestion: {question}"
)


def opa_prompt(item: Mapping[str, Any]) -> str:
    """The prompt for an item (the site's field names: `birth_country` holds the published
    `birth_country/region`)."""
    return OPA_TEMPLATE.format(
        age=item["age"],
        gender=item["gender"],
        employment_status=item["employment_status"],
        education=item["education"],
        marital_status=item["marital_status"],
        birth_country=item["birth_country"],
        question=item["question"],
    )
