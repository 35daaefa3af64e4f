"""The leaderboard page and its CSV/JSON exports (same view state, same rows)."""

from __future__ import annotations

import csv
import io
import json

from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string

from leaderboard.benchmark.models import DatasetRelease, Mode
from leaderboard.benchmark.visibility import is_staff
from leaderboard.boards import charts
from leaderboard.boards.cache import cached_board, cached_value
from leaderboard.boards.params import ALL_COLUMNS, page_base, parse_board_query, parse_columns
from leaderboard.boards.queries import OVERALL, SIZE_LABELS, Board, BoardQuery, BoardRow
from leaderboard.evals.models import LanguageModel, Method, ModelType, Precision

ROWS_PER_PAGE = 100


def board_rows_html(query: BoardQuery, result: Board, page: Page[BoardRow], overall: bool) -> str:
    """The table body, rendered once per board version and page: formatting a hundred rows of
    numbers costs far more than the rest of the request, and only changes with the results.
    Every column is rendered; the chooser hides some with a class on the table."""

    def render() -> str:
        context = {
            "rows": page.object_list,
            "query": query,
            "nations": result.nations,
            "overall": overall,
            "tied_ranks": result.tied_ranks,
        }
        return render_to_string("boards/partials/board_rows.html", context)

    return cached_value(f"{query.cache_key()}|rows|{page.number}", render)


def export_query(params: QueryDict) -> str:
    """The board's state for the export and API links (which have no page or columns)."""
    state = params.copy()
    for key in ("page", "col"):
        state.pop(key, None)
    return state.urlencode()


def board(request: HttpRequest) -> HttpResponse:
    query = parse_board_query(request.GET, staff=is_staff(request.user))
    result = cached_board(query)
    page = Paginator(result.rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    columns = parse_columns(request.GET)
    overall = query.nation == OVERALL
    modes = list(Mode.objects.evaluated())
    context = {
        "board": result,
        "query": query,
        "page": page,
        "columns": columns,
        "hidden_columns": [key for key in ALL_COLUMNS if key not in columns],
        "all_columns": ALL_COLUMNS,
        "page_base": page_base(request.GET),
        "nations": result.nations,
        "modes": modes,
        "methods": Method.choices,
        "model_types": ModelType.choices,
        "precisions": Precision.choices,
        "sizes": list(SIZE_LABELS.items()),
        "families": LanguageModel.objects.exclude(family="")
        .order_by("family")
        .values_list("family", flat=True)
        .distinct(),
        "releases": DatasetRelease.objects.published(),
        "overall": overall,
        "rows_html": board_rows_html(query, result, page, overall),
        "nation_name": next((n.name for n in result.nations if n.code == query.nation), ""),
        "view_label": (
            f"{next(m.name for m in modes if m.code == query.mode).lower()}, "
            f"{dict(Method.choices)[query.method].lower()}"
        ),
        "charts": charts.board_figures(query, result),
        "querystring": export_query(request.GET),
    }
    return render(request, "boards/board.html", context)


def _export_name(result: Board, ext: str) -> str:
    q = result.query
    return f"navab-{q.release.version}-{q.nation}-{q.mode}-{q.method}.{ext}"


def spreadsheet_safe(value: object) -> object:
    """Model names and families are user input: a leading =, +, - or @ would make a
    spreadsheet run them as a formula, so such text gets a quote prefix (numbers stay numbers)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def board_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "json"):
        raise Http404("Board exports are available as .csv or .json")
    query = parse_board_query(request.GET, staff=is_staff(request.user))
    result = cached_board(query)
    records = [row.as_dict(result.nation_codes, result.part_keys) for row in result.rows]
    if fmt == "json":
        payload = {
            "release": query.release.version,
            "nation": query.nation,
            "mode": query.mode,
            "method": query.method,
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
            "rows": records,
        }
        response = HttpResponse(json.dumps(payload, indent=2), content_type="application/json")
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, fieldnames=BoardRow.export_fields(result.nation_codes, result.part_keys)
        )
        writer.writeheader()
        writer.writerows({k: spreadsheet_safe(v) for k, v in r.items()} for r in records)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(result, fmt)}"'
    return response
