"""The disparity board (`/<benchmark>/disparity/?dimension=region`): every ranked model's
best-minus-worst slice on one dimension, sortable, and its CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from leaderboard.boards.disparity import DisparityRow, board_disparities, disparity_state
from leaderboard.boards.params import page_base
from leaderboard.boards.queries import method_gaps
from leaderboard.boards.responses import cached_response
from leaderboard.boards.views.board import ROWS_PER_PAGE, spreadsheet_safe
from leaderboard.catalog.models import DatasetRelease
from leaderboard.catalog.visibility import is_staff


def disparity_board(request: HttpRequest, benchmark: str) -> HttpResponseBase:
    # Whole anonymous responses per board version (responses.py): disparities are stored per
    # job and change only when a job finishes or a model or release is edited.
    return cached_response(request, lambda: render_disparity_board(request, benchmark))


def render_disparity_board(request: HttpRequest, benchmark: str) -> HttpResponse:
    release, declared, method, dimension, sort = disparity_state(
        request.GET, staff=is_staff(request.user), benchmark=benchmark
    )
    rows = board_disparities(release, declared, method, dimension, sort)
    # Pages of the board's size: a thousand models' rows are a page nobody reads whole, and
    # rendering them grew the page with every model (the CSV holds them all).
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "benchmark": declared,
        "release": release,
        "method": method,
        "dimension": dimension,
        "sort": sort,
        "rows": page.object_list,
        "page": page,
        "page_base": page_base(request.GET),
        # Models whose runs left the method out have no disparity: say why, as the board does.
        "not_run": method_gaps(release, method.key).not_run,
        "kind": method.primary_metric.kind,
        "querystring": request.GET.urlencode(),
        "releases": DatasetRelease.objects.published().filter(benchmark__slug=benchmark),
    }
    return render(request, "boards/disparity.html", context)


EXPORT_FIELDS = (
    "model_id", "model", "revision", "method", "metric", "dimension", "disparity", "ci_low",
    "ci_high", "best", "best_mean", "best_n", "worst", "worst_mean", "worst_n", "lowest",
    "ranked_slices", "greyed_slices", "items", "reason",
)  # fmt: skip


def _record(row: DisparityRow) -> dict[str, Any]:
    found, model = row.found, row.model
    assert model is not None
    return {
        "model_id": model.pk,
        "model": model.public_name,
        "revision": model.revision,
        "method": found.method,
        "metric": found.metric,
        "dimension": found.dimension,
        "disparity": found.value,
        "ci_low": found.ci_low,
        "ci_high": found.ci_high,
        "best": found.best.value if found.best else "",
        "best_mean": found.best.mean if found.best else "",
        "best_n": found.best.n if found.best else "",
        "worst": found.worst.value if found.worst else "",
        "worst_mean": found.worst.mean if found.worst else "",
        "worst_n": found.worst.n if found.worst else "",
        "lowest": "; ".join(
            f"{g.value}: {g.gap:+.4f} [{g.ci_low:+.4f}, {g.ci_high:+.4f}] n={g.n}"
            for g in found.lowest
        ),
        "ranked_slices": found.ranked,
        "greyed_slices": len(found.greyed),
        "items": found.n,
        "reason": found.reason,
    }


def disparity_export(request: HttpRequest, benchmark: str) -> HttpResponseBase:
    return cached_response(request, lambda: render_disparity_export(request, benchmark))


def render_disparity_export(request: HttpRequest, benchmark: str) -> HttpResponse:
    release, declared, method, dimension, sort = disparity_state(
        request.GET, staff=is_staff(request.user), benchmark=benchmark
    )
    rows = board_disparities(release, declared, method, dimension, sort)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in _record(r).items()} for r in rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"{declared.file_stem(release.version)}-disparity-{method.key}-{dimension.key}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
