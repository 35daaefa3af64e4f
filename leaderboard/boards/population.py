"""Population pictures for a benchmark scored per slice of one dimension (DiverValue-Bench): a
world map of the dimension its declaration marks as places, a radar for each other dimension,
each with the table it is drawn from (for readers without JavaScript or with a screen reader).

Built from stored scores already loaded by the page (the model page's job scores) or from one
query over the ranked models' jobs (the board's map): no query per slice or per model. A slice
below its dimension's min_n is drawn apart (grey on the map, a cross on a radar), never
coloured as a score. Plotly's map data is served from static/ (`TOPOJSON`), never a CDN.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import plotly.graph_objects as go
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.utils.safestring import SafeString

from evaluation.benchmarks.contract import (
    BenchmarkDefinition,
    Method,
    Metric,
    MetricKind,
    SliceDimension,
)
from evaluation.benchmarks.countries import is_unstated
from evaluation.results import MEASURE_FIELDS, Measure
from leaderboard.boards import charts, figures
from leaderboard.boards.ranking import sums_interval

TOPOJSON = "vendor/topojson/world_110m.json"
SMALL_COLOUR = "#c7cbd1"
SCORE_SCALE = "Viridis"


@dataclass(frozen=True)
class Point:
    """One slice value's score: a model's, or the mean over models (`models` of them)."""

    value: str
    label: str
    score: float
    low: float
    high: float
    n: int
    #: not ranked: below the dimension's min_n, or one cluster (no interval)
    small: bool
    models: int = 1
    code: str | None = None
    #: the clusters (users) behind the interval; None where items are independent
    clusters: int | None = None

    @property
    def one_cluster(self) -> bool:
        return self.clusters == 1


@dataclass
class Picture:
    dimension: SliceDimension
    points: list[Point]
    element_id: str
    #: the Plotly figure as embedded JSON; None where there is too little to draw
    script: SafeString | None = None
    #: a map's slices it cannot draw, listed under it: no place named, a name the country
    #: table lacks, a place too small for the map's scale
    unstated: list[Point] = field(default_factory=list)
    unmapped: list[Point] = field(default_factory=list)
    not_drawn: list[Point] = field(default_factory=list)
    #: names of a place another name of the release already draws ("UK" beside "United
    #: Kingdom"): one shape holds one score, the one with more items
    shared: list[Point] = field(default_factory=list)
    #: the points the map colours, one per shape
    drawn: list[Point] = field(default_factory=list)
    #: the caption's sentence on the scale the picture is drawn with (fitted to the data)
    scale: str = ""

    @property
    def small(self) -> list[Point]:
        return [p for p in self.points if p.small]

    @property
    def topojson_url(self) -> str:
        return topojson_url()


@dataclass
class Population:
    metric: Metric
    #: the map first (if the benchmark declares places), then one radar per dimension
    map: Picture | None
    radars: list[Picture]

    @property
    def empty(self) -> bool:
        return self.map is None and not self.radars

    @property
    def kind(self) -> str:
        return self.metric.kind.value


@lru_cache(maxsize=1)
def drawable_codes() -> frozenset[str]:
    """The ISO-3 codes the shipped topojson has a shape for (small states are missing at
    1:110m, and are listed under the map instead of vanishing)."""
    path = finders.find(TOPOJSON)
    if not path or not isinstance(path, str):
        raise RuntimeError(f"static file {TOPOJSON} is missing")
    with open(path, encoding="utf-8") as handle:
        topology = json.load(handle)
    return frozenset(g["id"] for g in topology["objects"]["countries"]["geometries"] if g.get("id"))


def topojson_url() -> str:
    """The folder Plotly loads `world_110m.json` from (its `topojsonURL` setting)."""
    return static(TOPOJSON).rsplit("/", 1)[0] + "/"


def applies(benchmark: BenchmarkDefinition) -> bool:
    """Benchmarks scored per one-dimension slice; NaVAB's cells cross nation and mode, and its
    model page has its radar over nations instead."""
    return benchmark.averaged_dimension is None


# One stored score: its slice cell and what it measured.
ScoreRow = tuple[dict[str, str], Measure]
#: the Score fields `score_row` reads, in order
SCORE_ROW_FIELDS = ("slices", *MEASURE_FIELDS)


def score_row(slices: dict[str, str], *measured: Any) -> ScoreRow:
    """A ScoreRow from the values of SCORE_ROW_FIELDS."""
    return slices, Measure(**dict(zip(MEASURE_FIELDS, measured, strict=True)))


@dataclass(frozen=True)
class SliceScores:
    """One slice's scores over the models pictured: what its point is drawn from."""

    models: int
    #: the sum of the models' values and of their squared stderrs
    total: float
    squares: float
    #: the most items, and the fewest clusters (None: none known), of any model's score
    n: int
    clusters: int | None
    #: the score and interval where one model is pictured
    value: float
    low: float
    high: float


# (dimension key, value) -> that slice's scores
Slices = dict[tuple[str, str], SliceScores]


def slice_scores(rows: Iterable[tuple[str, ScoreRow]]) -> Slices:
    """Each population slice's scores from (job, row) pairs."""
    grouped: dict[tuple[str, str], list[Measure]] = defaultdict(list)
    for _job, (slices, measure) in rows:
        if len(slices) != 1:
            continue  # the overall, or a cell crossing dimensions: not a population slice
        ((key, value),) = slices.items()
        grouped[(key, value)].append(measure)
    found = {}
    for cell, group in grouped.items():
        known = [m.clusters for m in group if m.clusters is not None]
        found[cell] = SliceScores(
            models=len(group),
            total=sum(m.value for m in group),
            squares=sum(m.stderr * m.stderr for m in group),
            n=max(m.n for m in group),
            clusters=min(known) if known else None,
            value=group[0].value,
            low=group[0].ci_low,
            high=group[0].ci_high,
        )
    return found


def _points(
    benchmark: BenchmarkDefinition, metric: Metric, cells: Slices
) -> dict[str, list[Point]]:
    """Points per dimension key; several models' scores of one slice are averaged (the mean
    over models, with the interval of a mean of independent estimates)."""
    points: dict[str, list[Point]] = defaultdict(list)
    for dimension in benchmark.slices:
        values = sorted(
            (v for k, v in cells if k == dimension.key and v not in dimension.unscored),
            key=dimension.sort_key,
        )
        for value in values:
            cell = cells[(dimension.key, value)]
            # The fewest clusters among the models' scores (they share the release's items).
            clusters, n = cell.clusters, cell.n
            if cell.models == 1:
                score, low, high = cell.value, cell.low, cell.high
            else:
                mean = sums_interval(
                    cell.total, cell.squares, cell.models, lower=metric.lower, upper=metric.upper
                )
                score, low, high = mean.value, mean.low, mean.high
            points[dimension.key].append(
                Point(
                    value=value,
                    label=dimension.label_of(value),
                    score=score,
                    low=low,
                    high=high,
                    n=n,
                    small=n < dimension.min_n or clusters == 1,
                    models=cell.models,
                    code=dimension.iso3(value) if dimension.iso3 else None,
                    clusters=clusters,
                )
            )
    return points


def _format(metric: Metric) -> str:
    return ".1%" if metric.kind is MetricKind.PROPORTION else ".3f"


def _hover(metric: Metric, averaged: bool) -> str:
    f = _format(metric)
    over = "<br>mean over %{customdata[4]} models" if averaged else ""
    return (
        f"<b>%{{customdata[0]}}</b><br>{metric.label} %{{customdata[1]:{f}}}"
        f" [%{{customdata[2]:{f}}}, %{{customdata[3]:{f}}}]<br>n=%{{customdata[5]}} items"
        f"%{{customdata[6]}}{over}<extra></extra>"
    )


def _customdata(
    points: Sequence[Point], dimension: SliceDimension, metric: Metric
) -> list[list[Any]]:
    def note(p: Point) -> str:
        if p.one_cluster:
            return f" · one {metric.cluster_noun}: no interval, not ranked"
        return f" · too few items (below {dimension.min_n}): not ranked" if p.small else ""

    return [[p.label, p.score, p.low, p.high, p.models, p.n, note(p)] for p in points]


def world_map_figure(
    picture: Picture, metric: Metric, title: str, *, averaged: bool = False
) -> go.Figure:
    scored = [p for p in picture.drawn if not p.small]
    small = [p for p in picture.drawn if p.small]
    scores = [p.score for p in scored]
    zmin, zmax = charts.fitted_range(scores, scores, metric) or (metric.lower, metric.upper)
    traces = [
        go.Choropleth(
            locations=[p.code for p in scored],
            locationmode="ISO-3",
            z=[p.score for p in scored],
            zmin=zmin,
            zmax=zmax,
            colorscale=SCORE_SCALE,
            colorbar={"title": {"text": metric.label}, "tickformat": _format(metric)},
            customdata=_customdata(scored, picture.dimension, metric),
            hovertemplate=_hover(metric, averaged),
            marker={"line": {"color": "#ffffff", "width": 0.5}},
            name=metric.label,
        ),
        # Too few items: one flat grey, outside the colour scale, so no reader takes it
        # for a score.
        go.Choropleth(
            locations=[p.code for p in small],
            locationmode="ISO-3",
            z=[0.0 for _ in small],
            colorscale=[[0.0, SMALL_COLOUR], [1.0, SMALL_COLOUR]],
            showscale=False,
            showlegend=bool(small),
            customdata=_customdata(small, picture.dimension, metric),
            hovertemplate=_hover(metric, averaged),
            marker={"line": {"color": "#ffffff", "width": 0.5}},
            name=f"too few items (n < {picture.dimension.min_n})",
        ),
    ]
    figure = go.Figure(traces)
    figure.update_layout(
        title=title,
        height=460,
        geo={
            "scope": "world",
            "resolution": 110,
            # Centred on Greenwich: left to itself, plotly.js centres the world on the
            # middle of the drawn countries' longitudes.
            "projection": {"type": "natural earth", "rotation": {"lon": 0}},
            "center": {"lon": 0, "lat": 0},
            "lonaxis": {"range": [-180, 180]},
            "showframe": False,
            "showcountries": True,
            "countrycolor": "#ffffff",
            "showland": True,
            "landcolor": "#eef0f3",
            "showcoastlines": False,
        },
        legend={"orientation": "h", "y": -0.05},
        **charts._LAYOUT,
    )
    return figure


def _wrapped(label: str, width: int = 14) -> str:
    """A long spoke label on two lines (plotly does not wrap), broken at the middle space."""
    if len(label) <= width or " " not in label:
        return label
    spaces = [i for i, c in enumerate(label) if c == " "]
    cut = min(spaces, key=lambda i: abs(i - len(label) / 2))
    return f"{label[:cut]}<br>{label[cut + 1 :]}"


def radar_figure(picture: Picture, metric: Metric, title: str) -> go.Figure:
    points = picture.points
    figure = go.Figure(
        go.Scatterpolar(
            r=[p.score for p in points] + [points[0].score],
            theta=[_wrapped(p.label) for p in [*points, points[0]]],
            customdata=_customdata([*points, points[0]], picture.dimension, metric),
            hovertemplate=_hover(metric, averaged=False),
            fill="toself",
            mode="lines+markers",
            marker={
                # A slice below min_n: a grey cross, so the eye does not read it as a score.
                "symbol": ["x" if p.small else "circle" for p in [*points, points[0]]],
                "color": [SMALL_COLOUR if p.small else "#2563eb" for p in [*points, points[0]]],
                "size": [11 if p.small else 7 for p in [*points, points[0]]],
            },
            name=metric.label,
        )
    )
    scores = [p.score for p in points]
    span = charts.fitted_range(scores, scores, metric)
    # The tick labels run along a line between the first two spokes, so they never sit on a
    # slice's name; the first spoke points up.
    radial: dict[str, Any] = {
        "tickformat": _format(metric),
        "angle": 90 + 180 / len(points),
        "tickangle": 0,
        "nticks": 4,
        "tickfont": {"size": 10, "color": "#6b7280"},
    }
    if span is not None:
        radial["range"] = list(span)
    angular = {"rotation": 90, "direction": "clockwise", "tickfont": {"size": 11}}
    # Side margins: slice labels ("Completed Secondary School") sit outside the circle.
    layout = {**charts._LAYOUT, "margin": {"l": 70, "r": 70, "t": 50, "b": 30}}
    figure.update_layout(
        title=title,
        polar={"radialaxis": radial, "angularaxis": angular},
        height=400,
        showlegend=False,
        **layout,
    )
    return figure


def _map_picture(
    dimension: SliceDimension, points: list[Point], metric: Metric, prefix: str, title: str
) -> Picture:
    drawable = drawable_codes()
    picture = Picture(
        dimension,
        points,
        f"{prefix}-map",
        unstated=[p for p in points if p.code is None and is_unstated(p.value)],
        unmapped=[p for p in points if p.code is None and not is_unstated(p.value)],
        not_drawn=[p for p in points if p.code is not None and p.code not in drawable],
    )
    by_code: dict[str, Point] = {}
    for point in sorted(points, key=lambda p: -p.n):
        if point.code not in drawable:
            continue
        if point.code in by_code:
            picture.shared.append(point)
        else:
            by_code[point.code] = point
    picture.drawn = [p for p in points if p.code in by_code and by_code[p.code] is p]
    if picture.drawn:
        plotted = figures.from_plotly(
            world_map_figure(picture, metric, title, averaged=any(p.models > 1 for p in points))
        )
        picture.script = figures.as_script(plotted, picture.element_id)
        picture.scale = charts.scale_note(plotted, metric)
    return picture


# A radar needs three spokes; a dimension with fewer values keeps its table only.
MIN_SPOKES = 3


def population(
    benchmark: BenchmarkDefinition,
    cells: Slices,
    prefix: str,
    subject: str,
    method: Method | None = None,
) -> Population:
    """The pictures of one metric's scores per slice: `cells` are the slices' scores of
    METHOD's primary metric (default: the benchmark's first method's); `subject` names whose
    scores they are."""
    metric = (method or benchmark.methods[0]).primary_metric
    by_dimension = _points(benchmark, metric, cells)
    places = benchmark.map_dimension
    world = None
    if places is not None and by_dimension.get(places.key):
        world = _map_picture(
            places,
            by_dimension[places.key],
            metric,
            prefix,
            f"{subject}: {metric.label} by {places.label.lower()}",
        )
    radars = []
    for dimension in benchmark.slices:
        points = by_dimension.get(dimension.key, [])
        if dimension is places or not points:
            continue
        picture = Picture(dimension, points, f"{prefix}-radar-{dimension.key}")
        if len(points) >= MIN_SPOKES:
            figure = radar_figure(picture, metric, f"{metric.label} by {dimension.label.lower()}")
            picture.script = figures.as_script(figure, picture.element_id)
            span = figure.layout.polar.radialaxis.range
            picture.scale = charts.range_note("The radius", tuple(span) if span else None, metric)
        radars.append(picture)
    return Population(metric, world, radars)


def scores_by_slice(
    benchmark: BenchmarkDefinition, scores: Iterable[Any], method: Method | None = None
) -> Slices:
    """Each population slice's scores among Score instances of METHOD's primary metric
    (default: the benchmark's first method's)."""
    method = method or benchmark.methods[0]
    return slice_scores(
        (str(s.job_id), score_row(*(getattr(s, name) for name in SCORE_ROW_FIELDS)))
        for s in scores
        if s.method == method.key and s.metric == method.primary
    )
