"""The API's JSON parser: DRF's, refusing text no response could quote back.

JSON may spell a lone UTF-16 surrogate (`"\\udcff"`), which Python decodes into a string that
cannot be encoded as UTF-8: a field that echoes a refused value in its error ("... is not a
valid choice") then fails to render its own 400, and the client gets a 500.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        data = super().parse(stream, media_type, parser_context)
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ParseError(
                "JSON parse error - a string holds a lone surrogate (an unpaired \\ud800-\\udfff "
                "escape), which is not text"
            ) from exc
        return data
