"""Plotly figures as the JSON plotly.js draws, and their embedding in a page.

A board's figures are written here as plain dicts in the shape plotly's `to_plotly_json`
gives (`{"data": [traces with "type"], "layout": {...}}`): building them through
`go.Figure` validated and deep-copied every point, 50-60 ms of a cold 1,000-model board.
What plotly adds on its own (the default template, a named colour scale's stops) is taken
from plotly once per process, so the browser receives the same figure."""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Any, TypedDict

import plotly.graph_objects as go
import plotly.io as pio
from django.utils.html import json_script
from django.utils.safestring import SafeString
from plotly.utils import PlotlyJSONEncoder


class Figure(TypedDict):
    data: list[dict[str, Any]]
    layout: dict[str, Any]


@cache
def _template() -> dict[str, Any]:
    """The template plotly puts in every figure's layout (its default, "plotly"): its grid,
    colours and fonts are what the site's charts look like. Shared by every figure: never
    modified."""
    template: dict[str, Any] = pio.templates[pio.templates.default].to_plotly_json()
    return template


@cache
def colorscale(name: str) -> list[list[Any]]:
    """A named colour scale's stops as plotly writes them (plotly.js's own "Viridis" has
    other stops)."""
    return [list(stop) for stop in go.Heatmap(colorscale=name).colorscale]


def figure_of(data: list[dict[str, Any]], layout: dict[str, Any]) -> Figure:
    return {"data": data, "layout": {"template": _template(), **layout}}


def from_plotly(figure: go.Figure) -> Figure:
    """A figure built from plotly's objects (the pages other than a board's), through
    plotly's encoder: it writes numpy arrays as lists and NaN as null."""
    plotted: Figure = json.loads(json.dumps(figure.to_plotly_json(), cls=PlotlyJSONEncoder))
    return plotted


class _StrictEncoder(json.JSONEncoder):
    """JSON.parse refuses NaN and Infinity, which Python writes by default."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{**kwargs, "allow_nan": False})


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def as_script(figure: Figure | go.Figure, element_id: str) -> SafeString:
    """The figure as a `<script type="application/json">` element board.js draws from, encoded
    once (json_script escapes <, > and & so a name cannot end the script); a value that is
    not a number is written as null, as plotly's encoder did."""
    if isinstance(figure, go.Figure):
        figure = from_plotly(figure)
    try:
        return json_script(figure, element_id, encoder=_StrictEncoder)
    except ValueError:
        return json_script(_finite(figure), element_id, encoder=_StrictEncoder)
