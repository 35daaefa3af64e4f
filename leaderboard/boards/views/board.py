"""The leaderboard page and its CSV/JSON exports (same view state, same rows)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string

from evaluation.benchmarks import get_benchmark, out_of_domain_sets
from evaluation.benchmarks.contract import BenchmarkDefinition
from leaderboard.boards import charts
from leaderboard.boards.cache import cached_value
from leaderboard.boards.judge_summary import board_judging
from leaderboard.boards.judges import missing_judge_notice
from leaderboard.boards.params import (
    ALL_COLUMNS,
    empty_columns,
    page_base,
    parse_board_query,
    parse_columns,
    query_string_with,
)
from leaderboard.boards.queries import (
    OVERALL,
    SIZE_LABELS,
    Board,
    BoardQuery,
    BoardRow,
    cached_board,
    method_gaps,
)
from leaderboard.boards.reported import board_reported, publisher_run_dicts, publisher_runs
from leaderboard.boards.responses import cached_response
from leaderboard.catalog.counts import slice_values
from leaderboard.catalog.models import DatasetRelease
from leaderboard.catalog.visibility import is_staff
from leaderboard.evals.models import LanguageModel, ModelType, Precision
from leaderboard.evals.slices import declaration

ROWS_PER_PAGE = 100


MAX_TABS = 12  # a dimension with more values is a menu, not a row of tabs


@dataclass(frozen=True)
class Tab:
    label: str
    url: str
    active: bool


@dataclass(frozen=True)
class SliceChoice:
    """A dimension the board can be cut by: its values as tabs, or as a menu when many."""

    key: str
    label: str
    tabs: list[Tab]
    options: list[tuple[str, str]]
    selected: str
    #: shown as a menu in the filter form (many values, or declared a filter)
    as_menu: bool
    #: "All" (the overall) is a choice: only where no averaged dimension needs crossing
    optional: bool


def board_rows_html(
    query: BoardQuery,
    result: Board,
    page: Page[BoardRow],
    overall: bool,
    current: DatasetRelease | None,
) -> str:
    """The table body, rendered once per board version and page: formatting a hundred rows of
    numbers costs far more than the rest of the request, and only changes with the results.
    Every column is rendered; the chooser hides some with a class on the table."""

    def render() -> str:
        context = {
            "rows": page.object_list,
            "query": query,
            "columns": result.columns,
            "overall": overall,
            "tied_ranks": result.tied_ranks,
            "kind": result.metric.kind if result.metric else "",
            "counted": result.counted,
            # A board of an older release says so on every row.
            "current": current,
        }
        return render_to_string("boards/partials/board_rows.html", context)

    return cached_value(f"{query.cache_key()}|rows|{page.number}", render)


def export_query(params: QueryDict) -> str:
    """The board's state for the export and API links (which have no page or columns)."""
    state = params.copy()
    for key in ("page", "col"):
        state.pop(key, None)
    return state.urlencode()


def slice_choices(
    benchmark: BenchmarkDefinition, result: Board, params: QueryDict
) -> list[SliceChoice]:
    """The non-averaged dimensions, from the declaration and the values the release holds."""
    held = slice_values(result.query.release)
    crossed = benchmark.averaged_dimension is not None
    others = [d.key for d in benchmark.slices if not d.averaged]
    choices = []
    for dimension in benchmark.slices:
        if dimension.averaged:
            continue
        values = [v for v in held.get(dimension.key, []) if v not in dimension.unscored]
        # Without an averaged dimension a board is one slice: picking a value clears the rest.
        cleared = {} if crossed else {key: None for key in others}
        selected = result.selected.get(dimension.key, "")
        tabs = [Tab("All", query_string_with(params, cleared), not selected)] if not crossed else []
        tabs += [
            Tab(
                dimension.label_of(v),
                query_string_with(params, {**cleared, dimension.key: v}),
                v == selected,
            )
            for v in values
        ]
        choices.append(
            SliceChoice(
                key=dimension.key,
                label=dimension.label,
                tabs=tabs,
                options=[(v, dimension.label_of(v)) for v in values],
                selected=selected,
                as_menu=not dimension.tabs or len(values) > MAX_TABS,
                optional=not crossed,
            )
        )
    return choices


def column_tabs(benchmark: BenchmarkDefinition, result: Board, params: QueryDict) -> list[Tab]:
    """The overall and one tab per value of the averaged dimension (NaVAB: nations)."""
    averaged = benchmark.averaged_dimension
    if averaged is None:
        return []
    column = result.query.column

    def tab(label: str, value: str | None) -> Tab:
        url = query_string_with(params, {averaged.key: value, "sort": None, "order": None})
        return Tab(label, url, column == (value or OVERALL))

    return [tab("Overall", None)] + [tab(c.name, c.code) for c in result.columns]


def board(request: HttpRequest, benchmark: str) -> HttpResponseBase:
    return cached_response(request, lambda: render_board(request, benchmark))


def render_board(request: HttpRequest, benchmark: str) -> HttpResponse:
    query = parse_board_query(request.GET, staff=is_staff(request.user), benchmark=benchmark)
    result = cached_board(query)
    declared = declaration(query.release)
    assert result.method is not None and result.metric is not None
    page = Paginator(result.rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    columns = parse_columns(request.GET, empty_columns(result.rows))
    averaged = declared.averaged_dimension
    overall = averaged is not None and query.column == OVERALL
    column_name = next((c.name for c in result.columns if c.code == query.column), "")
    choices = slice_choices(declared, result, request.GET)
    parts_label = " / ".join(label for _, label in result.parts) or ALL_COLUMNS["posneg"]
    selected_labels = [
        declared.slice_dimension(key).label_of(value) for key, value in result.selected.items()
    ]
    gaps = method_gaps(query.release, result.method.key)
    # The release menu's releases; the newest is the current one (a board of an older
    # release says so on each row).
    releases = list(
        DatasetRelease.objects.published()
        .filter(benchmark__slug=benchmark)
        .order_by("-published_at", "-id")
    )
    current = releases[0] if releases else None
    context = {
        "benchmark": declared,
        # Boards this one is never averaged with: its out-of-domain sets, or the benchmark it
        # is the out-of-domain set of.
        "out_of_domain": out_of_domain_sets(benchmark),
        "in_domain": get_benchmark(declared.out_of_domain_of)
        if declared.out_of_domain_of
        else None,
        "board": result,
        "query": query,
        "page": page,
        "columns": columns,
        "hidden_columns": [key for key in ALL_COLUMNS if key not in columns],
        "all_columns": {**ALL_COLUMNS, "posneg": parts_label},
        "page_base": page_base(request.GET),
        "averaged": averaged,
        "board_columns": result.columns,
        "column_tabs": column_tabs(declared, result, request.GET),
        "slice_tabs": [c for c in choices if not c.as_menu],
        "slice_menus": [c for c in choices if c.as_menu],
        "method_tabs": [
            Tab(
                # Each method ranks on its own track; the tab says which.
                f"{m.label} · {m.track.label}",
                query_string_with(request.GET, {"method": m.key, "metric": None}),
                m.key == result.method.key,
            )
            for m in declared.methods
        ],
        "metric_tabs": [
            Tab(
                m.label,
                query_string_with(request.GET, {"metric": m.key}),
                m.key == result.metric.key,
            )
            for m in result.method.metrics
        ]
        if len(result.method.metrics) > 1
        else [],
        "kind": result.metric.kind,
        "track": result.method.track,
        "judge_notice": missing_judge_notice(result.method),
        # Read from the judges page's computation, cached per board version.
        "judging": board_judging(result),
        "model_types": ModelType.choices,
        "precisions": Precision.choices,
        "sizes": list(SIZE_LABELS.items()),
        "families": LanguageModel.objects.exclude(family="")
        .order_by("family")
        .values_list("family", flat=True)
        .distinct(),
        "releases": releases,
        "overall": overall,
        "rows_html": board_rows_html(query, result, page, overall, current),
        "not_run": gaps.not_run,
        "left_out": gaps.left_out,
        # An empty board of one method is not an empty release: other methods may have
        # scored models (a chat-only method on a release of open models), so say which.
        "evaluated_models": 0
        if result.total
        else LanguageModel.objects.on_release(query.release).count(),
        "column_name": column_name,
        # As declared: lowercasing turned "OPA" into "opa" and place names into common nouns.
        "view_label": ", ".join([*selected_labels, result.method.label]),
        "charts": charts.board_figures(query, result),
        "reported": cached_value(f"{query.cache_key()}|reported", lambda: board_reported(result)),
        "publisher_runs": publisher_runs(result),
        # Staff freeze the view as a citable snapshot (filters are dropped: the whole view).
        "can_freeze": is_staff(request.user),
        "querystring": export_query(request.GET),
        "reset_query": urlencode(result.state()),
        "ranks_caption": (
            "Each ranked model's score with its 95% interval, best first (the first 40); "
            "hover for its rank and rank range."
        ),
        "heatmap_label": f"Heatmap by {averaged.label.lower()} and model" if averaged else "",
        "heatmap_caption": (
            f"{averaged.label} by model, in the board's order (first 40 rows)." if averaged else ""
        ),
    }
    return render(request, "boards/board.html", context)


def _export_name(result: Board, ext: str) -> str:
    q = result.query
    state = "-".join(result.state().values())
    return f"{q.release.benchmark.slug}-{q.release.version}-{state}.{ext}"


def spreadsheet_safe(value: object) -> object:
    """Model names and families are user input: a leading =, +, - or @ would make a
    spreadsheet run them as a formula, so such text gets a quote prefix (numbers stay numbers)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def board_export(request: HttpRequest, benchmark: str, fmt: str) -> HttpResponseBase:
    if fmt not in ("csv", "json"):
        raise Http404("Board exports are available as .csv or .json")
    return cached_response(request, lambda: render_export(request, benchmark, fmt))


def render_export(request: HttpRequest, benchmark: str, fmt: str) -> HttpResponse:
    query = parse_board_query(request.GET, staff=is_staff(request.user), benchmark=benchmark)
    result = cached_board(query)
    records = [
        row.as_dict(result.column_codes, result.part_keys, result.counted) for row in result.rows
    ]
    if fmt == "json":
        payload = {
            "benchmark": benchmark,
            "release": query.release.version,
            **result.state(),
            "filters": {
                "type": query.model_types,
                "precision": query.precisions,
                "size": query.sizes,
                "family": query.family,
                "q": query.search,
            },
            "sort": query.sort,
            "order": query.direction,
            "total_models": result.total,
            "track": result.method.track.value if result.method else "",
            "judges": result.judges,
            "rank_resamples": result.rank_resamples,
            "rank_spread_note": result.rank_spread_note,
            "rows": records,
            # Never ranked: the publishers' own figures for this view, with their sources.
            "reported": [row.as_dict() for row in board_reported(result)],
            "publisher_runs": publisher_run_dicts(result),
        }
        response = HttpResponse(json.dumps(payload, indent=2), content_type="application/json")
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer,
            fieldnames=BoardRow.export_fields(
                result.column_codes, result.part_keys, result.counted
            ),
        )
        writer.writeheader()
        writer.writerows({k: spreadsheet_safe(v) for k, v in r.items()} for r in records)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(result, fmt)}"'
    return response
