"""Serves plotly.js from the installed plotly package as static/vendor/plotly.min.js.

The site never loads scripts from a CDN, and committing a 4.8 MB minified bundle would
drift from the Python package's version; this finder keeps the two in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, overload

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = "vendor/plotly.min.js"


class PlotlyFinder(BaseFinder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.source = Path(plotly.__file__).parent / "package_data"
        self.storage = FileSystemStorage(location=str(self.source))

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    @overload
    def find(self, path: str, find_all: Literal[False] = False, **kwargs: Any) -> str | None: ...

    @overload
    def find(self, path: str, find_all: Literal[True], **kwargs: Any) -> list[str]: ...

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> str | list[str] | None:
        if path != PLOTLY_JS:
            return [] if find_all else None
        found = str(self.source / "plotly.min.js")
        return [found] if find_all else found

    def list(self, ignore_patterns: Any) -> Any:
        self.storage.prefix = "vendor"  # type: ignore[attr-defined]
        yield "plotly.min.js", self.storage
