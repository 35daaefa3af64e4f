"""Plotly figures built on the server and drawn by the locally served plotly.js."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import plotly.graph_objects as go
from django.utils.html import json_script
from django.utils.safestring import SafeString
from plotly.utils import PlotlyJSONEncoder

from leaderboard.boards.alignment_effect import AlignmentEffect
from leaderboard.boards.cache import cached_board, cached_value
from leaderboard.boards.queries import Board, BoardQuery
from leaderboard.evals.models import Method

_LAYOUT: dict[str, Any] = {
    "margin": {"l": 60, "r": 20, "t": 40, "b": 60},
    "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
}
MAX_HEATMAP_MODELS = 40


def to_json(figure: go.Figure) -> str:
    return json.dumps(figure.to_plotly_json(), cls=PlotlyJSONEncoder)


def as_script(figure: go.Figure, element_id: str) -> SafeString:
    """The figure as a `<script type="application/json">` element board.js draws from.

    Rendered once and cached with the board: encoding a thousand points is not free."""
    return json_script(json.loads(to_json(figure)), element_id)


def nation_heatmap(board: Board) -> go.Figure:
    rows = [r for r in board.rows if r.cells][:MAX_HEATMAP_MODELS]
    z = [[(r.cells[c].value if c in r.cells else None) for c in board.nation_codes] for r in rows]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=[n.name for n in board.nations],
            y=[r.display_name for r in rows],
            zmin=0,
            zmax=1,
            colorscale="Viridis",
            colorbar={"title": "correct rate"},
            hovertemplate="%{y}<br>%{x}: %{z:.3f}<extra></extra>",
        )
    )
    figure.update_layout(
        title="Correct rate by nation",
        height=max(260, 28 * len(rows) + 120),
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"automargin": True},
        **_LAYOUT,
    )
    return figure


def score_vs_params(board: Board) -> go.Figure:
    rows = [r for r in board.ranked if r.params_billions]
    figure = go.Figure(
        go.Scatter(
            # Plotted as a raw count so the axis reads 7B, 70B (or 56k for the demo's tiny models).
            x=[(r.params_billions or 0.0) * 1e9 for r in rows],
            y=[r.primary.value for r in rows if r.primary],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [r.primary.high - r.primary.value for r in rows if r.primary],
                "arrayminus": [r.primary.value - r.primary.low for r in rows if r.primary],
            },
            mode="markers",
            text=[r.display_name for r in rows],
            customdata=[f"{r.params_billions:g}B" for r in rows],
            hovertemplate="%{text}<br>%{customdata} parameters: %{y:.3f}<extra></extra>",
        )
    )
    figure.update_layout(
        title="Score vs parameter count",
        xaxis={
            "type": "log",
            "title": "parameters",
            "tickvals": [10.0**e for e in range(3, 13)],
            "ticktext": [f"{10 ** (e % 3)}{'KMBT'[e // 3 - 1]}" for e in range(3, 13)],
        },
        yaxis={"title": "correct rate", "range": [0, 1]},
        height=380,
        **_LAYOUT,
    )
    return figure


def method_agreement(mc: Board, aj: Board) -> go.Figure:
    aj_by_model = {r.model_id: r for r in aj.ranked}
    pairs = [(r, aj_by_model[r.model_id]) for r in mc.ranked if r.model_id in aj_by_model]
    figure = go.Figure(
        [
            go.Scatter(
                x=[a.primary.value for a, _ in pairs if a.primary],
                y=[b.primary.value for _, b in pairs if b.primary],
                mode="markers",
                text=[a.display_name for a, _ in pairs],
                hovertemplate="%{text}<br>MC %{x:.3f} · AJ %{y:.3f}<extra></extra>",
                name="models",
            ),
            go.Scatter(
                x=[0, 1],
                y=[0, 1],
                mode="lines",
                line={"dash": "dot", "color": "#999"},
                name="MC = AJ",
                hoverinfo="skip",
            ),
        ]
    )
    figure.update_layout(
        title="MC vs AJ agreement",
        xaxis={"title": "MC correct rate", "range": [0, 1]},
        yaxis={"title": "AJ correct rate", "range": [0, 1]},
        height=380,
        showlegend=False,
        **_LAYOUT,
    )
    return figure


def nation_radar(names: list[str], series: dict[str, list[float | None]]) -> go.Figure:
    figure = go.Figure(
        [
            go.Scatterpolar(
                r=[*values, values[0]], theta=[*names, names[0]], fill="toself", name=label
            )
            for label, values in series.items()
            if values
        ]
    )
    figure.update_layout(
        title="Alignment by nation", polar={"radialaxis": {"range": [0, 1]}}, height=380, **_LAYOUT
    )
    return figure


def alignment_deltas(effect: AlignmentEffect) -> go.Figure:
    """Aligned minus base per cell, with the paired bootstrap 95% interval as error bars."""
    traces = []
    for is_target, name, colour in (
        (True, "target nation", "#2563eb"),
        (False, "other nations", "#9ca3af"),
    ):
        rows = [r for r in effect.rows if r.is_target == is_target]
        if not rows:
            continue
        traces.append(
            go.Bar(
                name=name,
                x=[f"{r.nation}/{r.mode}/{r.method}" for r in rows],
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
        title="Change in correct rate after alignment (aligned minus base)",
        yaxis={"title": "Δ correct rate", "zeroline": True},
        height=360,
        **_LAYOUT,
    )
    return figure


def board_figures(query: BoardQuery, result: Board) -> dict[str, str]:
    """The board's figures, ready to embed, cached with the board (plotly is slow to build)."""

    def build() -> dict[str, str]:
        figures: dict[str, str] = {}
        if result.rows:
            figures["heatmap"] = as_script(nation_heatmap(result), "chart-heatmap")
        if any(r.params_billions for r in result.ranked):
            figures["params"] = as_script(score_vs_params(result), "chart-params")
        other_method = Method.AJ if query.method == Method.MC else Method.MC
        other = cached_board(replace(query, method=other_method))
        mc, aj = (result, other) if query.method == Method.MC else (other, result)
        if mc.ranked and aj.ranked:
            figures["agreement"] = as_script(method_agreement(mc, aj), "chart-agreement")
        return figures

    return cached_value(f"{query.cache_key()}|charts", build)
