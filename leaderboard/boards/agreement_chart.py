"""The agreement page's chart: each model's paired difference between the two methods' shares
judged aligned, with its 95% interval and the zero line, so the models whose interval misses
zero (flagged) stand out."""

from __future__ import annotations

import plotly.graph_objects as go
from django.utils.safestring import SafeString

from leaderboard.boards import charts, figures
from leaderboard.boards.agreement import ModelAgreement
from leaderboard.boards.cache import cached_value
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.agreement import MethodPair

MAX_MODELS = charts.MAX_HEATMAP_MODELS
FLAGGED, AGREEING = "#c0392b", "#2c7fb8"


def agreement_figure(pair: MethodPair, rows: list[ModelAgreement]) -> tuple[go.Figure, str]:
    """The figure and its caption's scale sentence; rows in the table's order."""
    shown = rows[:MAX_MODELS]
    figure = go.Figure()
    for label, disagree, colour in (
        ("Differ beyond the interval", True, FLAGGED),
        ("Within the interval", False, AGREEING),
    ):
        chosen = [row for row in shown if row.overall.disagrees is disagree]
        if not chosen:
            continue
        figure.add_trace(
            go.Scatter(
                x=[row.overall.diff for row in chosen],
                y=[row.model.display_name for row in chosen],
                name=label,
                mode="markers",
                cliponaxis=False,
                marker={"size": 10, "color": colour},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [row.overall.ci_diff[1] - row.overall.diff for row in chosen],
                    "arrayminus": [row.overall.diff - row.overall.ci_diff[0] for row in chosen],
                    "color": colour,
                },
                customdata=[
                    [row.overall.rate_a, row.overall.rate_b, *row.overall.ci_diff] for row in chosen
                ],
                hovertemplate=f"%{{y}}<br>{pair.a.label} %{{customdata[0]:.1%}}, "
                f"{pair.b.label} %{{customdata[1]:.1%}}<br>difference %{{x:+.1%}} "
                "(95% CI %{customdata[2]:+.1%} to %{customdata[3]:+.1%})<extra></extra>",
            )
        )
    # Zero is always on the axis: the question is whether an interval crosses it.
    lows = [row.overall.ci_diff[0] for row in shown] + [0.0]
    highs = [row.overall.ci_diff[1] for row in shown] + [0.0]
    span = charts.fitted_range(lows, highs, None)
    figure.update_layout(
        # Short enough for a phone's width; the caption says the intervals are 95%.
        title=f"{pair.b.label} minus {pair.a.label}",
        height=max(280, 34 * len(shown) + 170),
        xaxis={
            "title": "Difference in share aligned",
            "tickformat": "+.0%",
            "zeroline": True,
            "zerolinewidth": 2,
        }
        | ({"range": list(span)} if span else {}),
        # Every model's row, in the table's order, even where all share one trace.
        yaxis={
            "autorange": "reversed",
            "automargin": True,
            "type": "category",
            "categoryorder": "array",
            "categoryarray": [row.model.display_name for row in shown],
        },
        legend={"orientation": "h", "y": -0.25, "yanchor": "top", "x": 0},
        **charts._LAYOUT,
    )
    note = ""
    if span:
        note = (
            f"The difference axis runs from {span[0]:+.1%} to {span[1]:+.1%}, fitted to the "
            "intervals and zero."
        )
    return figure, note


def agreement_chart(
    release: DatasetRelease, pair: MethodPair, rows: list[ModelAgreement]
) -> tuple[SafeString, str]:
    """The chart's embedded JSON and its scale sentence, once per board version."""

    def build() -> tuple[SafeString, str]:
        figure, note = agreement_figure(pair, rows)
        return figures.as_script(figure, "chart-agreement-diff"), note

    return cached_value(f"agreement-chart:{release.pk}:{pair.key}", build)
