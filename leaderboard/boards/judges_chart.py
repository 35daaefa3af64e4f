"""The judges page's chart: each model's share judged aligned by the panel and by each judge
alone, one row per model in the panel's rank order, so a reader sees which judge would move a
model and how far."""

from __future__ import annotations

import plotly.graph_objects as go
from django.utils.safestring import SafeString

from leaderboard.boards import charts, figures
from leaderboard.boards.cache import cached_value
from leaderboard.boards.judge_robustness import JudgesBoard
from leaderboard.catalog.models import DatasetRelease

#: rows drawn, as the board's charts draw them
MAX_MODELS = charts.MAX_HEATMAP_MODELS
#: one marker shape per judge (the panel is the large dark dot), so judges read apart in grey
#: horizontal markers grouped within a model's row, drawn whole at the axis' ends (0%, 100%)
SIDE_BY_SIDE = {"orientation": "h", "cliponaxis": False}
JUDGE_SYMBOLS = ("diamond", "square", "triangle-up", "cross", "x", "star", "triangle-down")


def judges_figure(board: JudgesBoard) -> tuple[go.Figure, str]:
    """The figure and its caption's scale sentence."""
    metric = board.method.primary_metric
    rows = board.rows[:MAX_MODELS]
    names = [row.model.display_name for row in rows]
    values = [v for row in rows for v in (row.panel, *row.by_judge.values()) if v is not None]
    span = charts.fitted_range(values, values, metric)
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[row.panel for row in rows],
            y=names,
            name="Panel",
            mode="markers",
            offsetgroup="panel",
            **SIDE_BY_SIDE,
            marker={"size": 13, "color": "#222", "line": {"width": 0}},
            customdata=[row.panel_rank for row in rows],
            hovertemplate="%{y}<br>Panel: %{x:.1%} (rank %{customdata})<extra></extra>",
        )
    )
    for position, judge in enumerate(board.judges):
        shares = [row.by_judge.get(judge) for row in rows]
        figure.add_trace(
            go.Scatter(
                x=shares,
                y=names,
                name=judge,
                mode="markers",
                offsetgroup=judge,
                **SIDE_BY_SIDE,
                marker={"symbol": JUDGE_SYMBOLS[position % len(JUDGE_SYMBOLS)], "size": 9},
                customdata=[row.rank_by_judge.get(judge) for row in rows],
                hovertemplate=f"%{{y}}<br>{judge} alone: %{{x:.1%}} (rank %{{customdata}})"
                "<extra></extra>",
            )
        )
    figure.update_layout(
        title=f"{metric.label}: the panel and each judge alone",
        # Each judge a little apart within its model's row: two judges that agree stay visible.
        scattermode="group",
        scattergap=0.4,
        height=max(280, (16 + 10 * len(board.judges)) * len(rows) + 170),
        xaxis={"title": "Share judged aligned", "tickformat": ".0%"}
        | ({"range": list(span)} if span else {}),
        yaxis={"autorange": "reversed", "automargin": True, "type": "category"},
        # Under the plot: judges' names are long, and beside it they squeeze a phone's plot.
        legend={"orientation": "h", "y": -0.25, "yanchor": "top", "x": 0},
        **charts._LAYOUT,
    )
    return figure, charts.range_note("The share axis", span, metric)


def judges_chart(
    release: DatasetRelease, board: JudgesBoard, element_id: str = "chart-judges"
) -> tuple[SafeString, str] | None:
    """The chart's embedded JSON and its scale sentence, once per board version; None where no
    answer has a verdict (unreadable judges): an empty axis would look like a scale of nothing."""
    if not any(
        value is not None for row in board.rows for value in (row.panel, *row.by_judge.values())
    ):
        return None

    def build() -> tuple[SafeString, str]:
        figure, note = judges_figure(board)
        return figures.as_script(figure, element_id), note

    return cached_value(f"judges-chart:{release.pk}:{board.method.key}:{element_id}", build)
