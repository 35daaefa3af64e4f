"""Plotly figures built on the server and drawn by the locally served plotly.js: a board's
as plain dicts (figures.py), the other pages' through plotly's objects."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import plotly.graph_objects as go

from evaluation.benchmarks.contract import Metric, MetricKind
from leaderboard.boards.alignment_effect import AlignmentEffect
from leaderboard.boards.cache import cached_value
from leaderboard.boards.figures import Figure, as_script, colorscale, figure_of
from leaderboard.boards.queries import (
    Board,
    BoardQuery,
    BoardRow,
    MethodScores,
    board_scores,
    method_scores,
)
from leaderboard.evals.slices import declaration

_LAYOUT: dict[str, Any] = {
    "margin": {"l": 60, "r": 20, "t": 40, "b": 60},
    "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
}
MAX_HEATMAP_MODELS = 40


def _metric_label(board: Board) -> str:
    return board.metric.label if board.metric else "score"


def fitted_range(
    lows: Iterable[float], highs: Iterable[float], metric: Metric | None
) -> tuple[float, float] | None:
    """A scale that fits the data (intervals included) with a small margin, inside the
    metric's declared bounds: a fixed 0-1 axis flattens OPA's 0.02-0.09 into one line and
    paints every country of a map the same colour. None where there is no data."""
    low_values, high_values = list(lows), list(highs)
    if not low_values or not high_values:
        return None
    low, high = min(low_values), max(high_values)
    pad = max((high - low) * 0.08, abs(high) * 0.02, 1e-3)
    low, high = low - pad, high + pad
    if metric is not None and metric.lower is not None:
        low = max(low, metric.lower)
    if metric is not None and metric.upper is not None:
        high = min(high, metric.upper)
    return low, high


def format_value(metric: Metric | None, value: float) -> str:
    if metric is not None and metric.kind is MetricKind.PROPORTION:
        return f"{value:.1%}"
    return f"{value:.3f}"


def range_note(what: str, span: tuple[float, float] | None, metric: Metric | None) -> str:
    """The sentence a caption states a fitted scale with, and the metric's own bounds."""
    if span is None:
        return ""
    # "Both axes" are plural; every other subject ("the radius") is one.
    verb = "run" if what == "Both axes" else "runs"
    note = (
        f"{what} {verb} from {format_value(metric, span[0])} to {format_value(metric, span[1])}, "
        "fitted to the data"
    )
    if metric is not None and metric.lower is not None and metric.upper is not None:
        bounds = f"{format_value(metric, metric.lower)}-{format_value(metric, metric.upper)}"
        note += f" (the metric's scale is {bounds})"
    return note + "."


def _range(span: tuple[float, float] | None) -> dict[str, Any]:
    return {"range": list(span)} if span is not None else {}


def _title(text: str) -> dict[str, str]:
    return {"text": text}


def column_heatmap(board: Board, dimension: str) -> Figure:
    rows = [r for r in board.rows if r.cells][:MAX_HEATMAP_MODELS]
    z = [[(r.cells[c].value if c in r.cells else None) for c in board.column_codes] for r in rows]
    values = [v for line in z for v in line if v is not None]
    bounds = fitted_range(values, values, board.metric)
    heatmap = {
        "type": "heatmap",
        "z": z,
        "x": [c.name for c in board.columns],
        "y": [r.display_name for r in rows],
        **({"zmin": bounds[0], "zmax": bounds[1]} if bounds is not None else {}),
        "colorscale": colorscale("Viridis"),
        "colorbar": {"title": _title(_metric_label(board))},
        "hovertemplate": "%{y}<br>%{x}: %{z:.3f}<extra></extra>",
    }
    return figure_of(
        [heatmap],
        {
            "title": _title(f"{_metric_label(board)} by {dimension.lower()}"),
            "height": max(260, 28 * len(rows) + 120),
            "yaxis": {"autorange": "reversed", "automargin": True},
            "xaxis": {"automargin": True},
            **_LAYOUT,
        },
    )


def _rank_label(row: BoardRow) -> str:
    if row.rank_best is None or row.rank_worst is None:
        return f"rank {row.rank}"
    spread = (
        str(row.rank_best)
        if row.rank_best == row.rank_worst
        else f"{row.rank_best}\u2013{row.rank_worst}"
    )
    return f"rank {row.rank}, range {spread}"


def rank_whiskers(board: Board) -> Figure:
    """The ranked models' scores with their 95% intervals, best first (a whisker plot): one
    line per model, so a reader sees which intervals overlap and how far ranks could move."""
    sign = 1.0 if board.metric is None or board.metric.higher_is_better else -1.0
    rows = sorted(
        [r for r in board.ranked if r.primary],
        key=lambda r: -sign * r.primary.value if r.primary else 0.0,
    )[:MAX_HEATMAP_MODELS]
    intervals = [r.primary for r in rows if r.primary]
    span = fitted_range((i.low for i in intervals), (i.high for i in intervals), board.metric)
    whiskers = {
        "type": "scatter",
        "x": [i.value for i in intervals],
        "y": [r.display_name for r in rows],
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": [i.high - i.value for i in intervals],
            "arrayminus": [i.value - i.low for i in intervals],
        },
        "mode": "markers",
        "customdata": [
            [
                _rank_label(r),
                format_value(board.metric, i.low),
                format_value(board.metric, i.high),
            ]
            for r, i in zip(rows, intervals, strict=True)
        ],
        "hovertemplate": "%{y}<br>%{customdata[0]}<br>%{x:.3f} "
        "(95% CI %{customdata[1]} to %{customdata[2]})<extra></extra>",
    }
    return figure_of(
        [whiskers],
        {
            "title": _title(f"{_metric_label(board)} with 95% intervals, by rank"),
            "height": max(260, 28 * len(rows) + 120),
            "xaxis": {"title": _title(_metric_label(board)), **_range(span)},
            # The first ranked model on top.
            "yaxis": {"autorange": "reversed", "automargin": True, "type": "category"},
            **_LAYOUT,
        },
    )


def _params_rows(board: Board) -> list[Any]:
    return [r for r in board.ranked if r.params_billions and r.primary]


def score_vs_params(board: Board) -> Figure:
    rows = _params_rows(board)
    span = fitted_range(
        (r.primary.low for r in rows if r.primary),
        (r.primary.high for r in rows if r.primary),
        board.metric,
    )
    points = {
        "type": "scatter",
        # Plotted as a raw count so the axis reads 7B, 70B (or 56k for the demo's tiny models).
        "x": [(r.params_billions or 0.0) * 1e9 for r in rows],
        "y": [r.primary.value for r in rows if r.primary],
        "error_y": {
            "type": "data",
            "symmetric": False,
            "array": [r.primary.high - r.primary.value for r in rows if r.primary],
            "arrayminus": [r.primary.value - r.primary.low for r in rows if r.primary],
        },
        "mode": "markers",
        "text": [r.display_name for r in rows],
        "customdata": [f"{r.params_billions:g}B" for r in rows],
        "hovertemplate": "%{text}<br>%{customdata} parameters: %{y:.3f}<extra></extra>",
    }
    counts = [r.params_billions * 1e9 for r in rows if r.params_billions]
    # The ticks sit on powers of ten; models within one decade (the demo's 57K and 72K) would
    # leave the axis without a label, so the range always spans the decades around them.
    decades: dict[str, list[float]] = {}
    if counts:
        low, high = math.floor(math.log10(min(counts))), math.ceil(math.log10(max(counts)))
        decades = {"range": [low - 0.05, max(high, low + 1) + 0.05]}
    return figure_of(
        [points],
        {
            "title": _title("Score vs parameter count"),
            "xaxis": {
                "type": "log",
                "title": _title("parameters"),
                "tickvals": [10.0**e for e in range(3, 13)],
                "ticktext": [f"{10 ** (e % 3)}{'KMBT'[e // 3 - 1]}" for e in range(3, 13)],
                **decades,
            },
            "yaxis": {"title": _title(_metric_label(board)), **_range(span)},
            "height": 380,
            **_LAYOUT,
        },
    )


def method_agreement(first: MethodScores, second: MethodScores, names: dict[int, str]) -> Figure:
    """Each model's score on one method against another's; the dotted line is agreement.
    NAMES: model id -> shown name, in the order the points are drawn."""
    x_label, y_label = first.method.label, second.method.label
    pairs = [
        (model, first.values[model], second.values[model])
        for model in names
        if model in first.values and model in second.values
    ]
    values = [v for _, a, b in pairs for v in (a, b)]
    # One scale on both axes, fitted to the scores, so the dotted line stays the diagonal.
    low, high = fitted_range(values, values, first.metric) or (0.0, 1.0)
    models = {
        "type": "scatter",
        "x": [a for _, a, _ in pairs],
        "y": [b for _, _, b in pairs],
        "mode": "markers",
        "text": [names[model] for model, _, _ in pairs],
        "hovertemplate": f"%{{text}}<br>{x_label} %{{x:.3f}} · {y_label} %{{y:.3f}}<extra></extra>",
        "name": "models",
    }
    diagonal = {
        "type": "scatter",
        "x": [low, high],
        "y": [low, high],
        "mode": "lines",
        "line": {"dash": "dot", "color": "#999"},
        "name": f"{x_label} = {y_label}",
        "hoverinfo": "skip",
    }
    return figure_of(
        [models, diagonal],
        {
            "title": _title(f"{x_label} vs {y_label} agreement"),
            "xaxis": {"title": _title(f"{x_label} {first.metric.label}"), "range": [low, high]},
            "yaxis": {"title": _title(f"{y_label} {second.metric.label}"), "range": [low, high]},
            "height": 380,
            "showlegend": False,
            **_LAYOUT,
        },
    )


def radar(names: list[str], series: dict[str, list[float | None]], title: str) -> go.Figure:
    figure = go.Figure(
        [
            go.Scatterpolar(
                r=[*values, values[0]], theta=[*names, names[0]], fill="toself", name=label
            )
            for label, values in series.items()
            if values
        ]
    )
    values = [v for vs in series.values() for v in vs if v is not None]
    span = fitted_range(values, values, None) or (0.0, 1.0)
    figure.update_layout(
        title=title,
        polar={
            # Fitted to the scores (a 0-1 radius drew 0.4-0.6 as a small blob), tick labels
            # between the first two spokes so they never cover a name.
            "radialaxis": {"range": list(span), "angle": 90 + 180 / max(len(names), 1)},
            "angularaxis": {"rotation": 90, "direction": "clockwise"},
        },
        height=400,
        **_LAYOUT,
    )
    return figure


def alignment_deltas(effect: AlignmentEffect) -> go.Figure:
    """Aligned minus base for each group and cell, on each method's own per-item metric, with
    the paired bootstrap 95% interval as error bars."""
    first: dict[str, str] = {}
    for row in effect.summary:
        first.setdefault(row.method, row.measure)
    shown = [r for r in (*effect.summary, *effect.rows) if first.get(r.method) == r.measure]
    traces = []
    for is_target, name, colour in (
        (True, "target", "#2563eb"),
        (False, "other items", "#9ca3af"),
    ):
        rows = [r for r in shown if r.is_target == is_target]
        if not rows:
            continue
        traces.append(
            go.Bar(
                name=name,
                x=[f"{r.label} · {r.method}" for r in rows],
                y=[r.paired.delta for r in rows],
                marker_color=colour,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [r.paired.ci_high - r.paired.delta for r in rows],
                    "arrayminus": [r.paired.delta - r.paired.ci_low for r in rows],
                },
                hovertemplate="%{x}: %{y:+.3f}<extra></extra>",
            )
        )
    figure = go.Figure(traces)
    figure.update_layout(
        title="Change in score after alignment (aligned minus base)",
        yaxis={"title": "Δ score", "zeroline": True},
        height=360,
        **_LAYOUT,
    )
    return figure


def scale_note(figure: Figure, metric: Metric | None) -> str:
    """The caption sentence stating the scale a figure was drawn with: its y axis, else its
    colour scale."""
    layout = figure["layout"]
    axis = layout.get("yaxis", {}).get("range")
    xaxis = layout.get("xaxis", {})
    if axis is not None and xaxis.get("type") != "log" and xaxis.get("range"):
        return range_note("Both axes", (axis[0], axis[1]), metric)
    if axis is not None:
        return range_note("The score axis", (axis[0], axis[1]), metric)
    trace = figure["data"][0] if figure["data"] else None
    if trace is not None and trace.get("zmin") is not None:
        return range_note("The colour scale", (trace["zmin"], trace["zmax"]), metric)
    return ""


def board_figures(query: BoardQuery, result: Board) -> dict[str, str]:
    """The board's figures, ready to embed, cached with the board."""

    def build() -> dict[str, str]:
        figures: dict[str, str] = {}
        benchmark = declaration(query.release)
        averaged = benchmark.averaged_dimension
        if result.rows and result.columns and averaged is not None:
            heatmap = column_heatmap(result, averaged.label)
            figures["heatmap"] = as_script(heatmap, "chart-heatmap")
            figures["heatmap_scale"] = scale_note(heatmap, result.metric)
        if result.ranked:
            whiskers = rank_whiskers(result)
            figures["ranks"] = as_script(whiskers, "chart-ranks")
            span = whiskers["layout"]["xaxis"].get("range")
            figures["ranks_scale"] = range_note(
                "The score axis", (span[0], span[1]) if span else None, result.metric
            )
        if _params_rows(result):
            params = score_vs_params(result)
            figures["params"] = as_script(params, "chart-params")
            figures["params_scale"] = scale_note(params, result.metric)
        # The first two methods of one track, side by side (NaVAB: MC against AJ).
        methods = [m for m in benchmark.methods if result.method and m.track == result.method.track]
        if len(methods) >= 2 and result.method in methods[:2]:
            first, second = methods[0], methods[1]
            other = second if result.method == first else first
            own, theirs = board_scores(result), method_scores(result, other)
            one, two = (own, theirs) if result.method == first else (theirs, own)
            if one.values and two.values:
                names = {row.model_id: row.display_name for row in result.ranked}
                agreement = method_agreement(one, two, names)
                figures["agreement"] = as_script(agreement, "chart-agreement")
                figures["agreement_scale"] = scale_note(agreement, one.metric)
        return figures

    return cached_value(f"{query.cache_key()}|charts", build)
