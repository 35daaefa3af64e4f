"""Template helpers for board pages: links that change one piece of the URL's view state."""

from __future__ import annotations

from typing import Any

from django import template

from evaluation.benchmarks.contract import MetricKind
from leaderboard.boards.params import query_string_with
from leaderboard.boards.queries import BoardQuery

register = template.Library()
DASH = "\u2013"  # an en dash, between an interval's bounds


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """`?...` with the current query string, some keys replaced (None or "" removes one)."""
    return query_string_with(context["request"].GET, changes)


@register.inclusion_tag("boards/partials/sort_header.html", takes_context=True)
def sort_header(
    context: dict[str, Any], key: str, label: str, numeric: bool = False, column: str = ""
) -> dict[str, Any]:
    """A column header that sorts by `key`; clicking the active column reverses it.

    `column` names the chooser column the header belongs to (it is hidden with it)."""
    query: BoardQuery = context["query"]
    active = query.sort == key
    direction = query.direction if active else ""
    flipped = "desc" if direction == "asc" else "asc"
    changes = {"sort": key, "order": flipped if active else None}
    href = query_string_with(context["request"].GET, changes)
    return {
        "href": href,
        "label": label,
        "active": active,
        "numeric": numeric,
        "column": column,
        "key": key,
        "aria_sort": {"asc": "ascending", "desc": "descending"}.get(direction, "none"),
        "arrow": {"asc": "▲", "desc": "▼"}.get(direction, ""),
    }


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """`{{ row.cells|get:code }}`: a dict lookup by a variable key."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter(name="zip")
def zip_lists(left: Any, right: Any) -> list[tuple[Any, Any]]:
    """`{% for model, answer in models|zip:answers %}`: walk two lists side by side."""
    return list(zip(left, right, strict=False))


@register.filter
def params(billions: float | None) -> str:
    """A parameter count for people: 7B, 1.3B, 350M, 57K; an em dash when unknown."""
    if not billions:
        return "—"
    count = billions * 1e9
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= size:
            return f"{count / size:.3g}{unit}"
    return f"{count:.0f}"


@register.filter
def metric(value: float | None, kind: str) -> str:
    """A metric's value as its kind reads: a proportion as a percentage, anything else (a
    margin, a mean) as a number; an em dash when there is none."""
    if value is None:
        return "—"
    if kind == MetricKind.PROPORTION:
        return f"{value * 100:z.1f}%"
    # `z`: a value that rounds to zero reads 0.000, never -0.000.
    return f"{value:z.3f}"


@register.filter
def difference(value: float | None, kind: str) -> str:
    """A difference of two values of a metric: percentage points for a proportion ("12.5
    pts"), a number otherwise; signed when negative only."""
    return _amount(value, kind, "")


@register.filter
def gap(value: float | None, kind: str) -> str:
    """A signed difference from a mean: "-8.2 pts", "+0.40"."""
    return _amount(value, kind, "+")


def _amount(value: float | None, kind: str, sign: str) -> str:
    if value is None:
        return "—"
    if kind == MetricKind.PROPORTION:
        return f"{value * 100:{sign}z.1f} pts"
    return f"{value:{sign}z.3f}"


@register.filter
def interval(low: float | None, kind: str) -> str:
    """The start of a compact interval for a narrow cell: "25" of "25-100%" (an en dash)."""
    if low is None:
        return "—"
    return f"{low * 100:z.0f}" if kind == MetricKind.PROPORTION else f"{low:z.2f}"


@register.filter
def interval_end(high: float | None, kind: str) -> str:
    """The end of a compact interval: "-100%" after an en dash; a margin's bounds are spaced,
    as they may be negative."""
    if high is None:
        return ""
    return f"{DASH}{high * 100:z.0f}%" if kind == MetricKind.PROPORTION else f" {DASH} {high:z.2f}"


@register.filter
def judge_cells(row: Any, judges: list[str]) -> list[tuple[str, float | None, int | None]]:
    """`{% for judge, share, rank in row|judge_cells:board.judges %}` on the judges page."""
    cells: list[tuple[str, float | None, int | None]] = row.judge_cells(judges)
    return cells
