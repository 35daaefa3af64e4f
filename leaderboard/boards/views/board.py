"""The leaderboard page and its CSV/JSON exports (same view state, same rows)."""

from __future__ import annotations

import csv
import io
import json

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from leaderboard.benchmark.models import DatasetRelease, Mode
from leaderboard.boards.cache import cached_board
from leaderboard.boards.params import ALL_COLUMNS, parse_board_query, parse_columns
from leaderboard.boards.queries import OVERALL, SIZE_LABELS, Board
from leaderboard.evals.models import Method, ModelType, Precision


def _is_staff(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_staff", False))


def board(request: HttpRequest) -> HttpResponse:
    query = parse_board_query(request.GET, staff=_is_staff(request))
    result = cached_board(query)
    context = {
        "board": result,
        "query": query,
        "columns": parse_columns(request.GET),
        "all_columns": ALL_COLUMNS,
        "nations": result.nations,
        "modes": Mode.objects.all(),
        "methods": Method.choices,
        "model_types": ModelType.choices,
        "precisions": Precision.choices,
        "sizes": list(SIZE_LABELS.items()),
        "releases": DatasetRelease.objects.published(),
        "overall": query.nation == OVERALL,
        "querystring": request.GET.urlencode(),
    }
    return render(request, "boards/board.html", context)


def _export_name(result: Board, ext: str) -> str:
    q = result.query
    return f"navab-{q.release.version}-{q.nation}-{q.mode}-{q.method}.{ext}"


def board_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "json"):
        raise Http404("Board exports are available as .csv or .json")
    query = parse_board_query(request.GET, staff=_is_staff(request))
    result = cached_board(query)
    records = [row.as_dict(result.nation_codes) for row in result.rows]
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
            "rows": records,
        }
        response = HttpResponse(json.dumps(payload, indent=2), content_type="application/json")
    else:
        buffer = io.StringIO()
        fieldnames = list(records[0]) if records else ["rank", "model", "score"]
        writer = csv.DictWriter(buffer, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(records)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(result, fmt)}"'
    return response
