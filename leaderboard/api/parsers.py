"""The API's JSON parser: DRF's, refusing text no response could quote back and nesting no
endpoint takes.

JSON may spell a lone UTF-16 surrogate (`"\\udcff"`), which Python decodes into a string that
cannot be encoded as UTF-8: a field that echoes a refused value in its error ("... is not a
valid choice") then fails to render its own 400, and the client gets a 500.

Python's decoder recurses once per level: a 2 KB body of nested brackets raises
RecursionError (not the ValueError DRF turns into a 400), and a body just shallow enough to
parse would recurse again in whatever walks it next (a serializer, a JSON column).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Far deeper than any request body this API defines (a model's options are two levels).
MAX_DEPTH = 32


class StrictJSONParser(JSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        too_deep = ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels deep")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if depth(data) > MAX_DEPTH:
            raise too_deep
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ParseError(
                "JSON parse error - a string holds a lone surrogate (an unpaired \\ud800-\\udfff "
                "escape), which is not text"
            ) from exc
        return data


def depth(data: Any) -> int:
    """How many lists and objects deep DATA nests (0 for a scalar), without recursing."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, level + 1)
            stack += [(child, level + 1) for child in value]
    return deepest
