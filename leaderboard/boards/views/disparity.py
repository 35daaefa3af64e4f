"""The disparity board (`/<benchmark>/disparity/?dimension=region`): every ranked model's
best-minus-worst slice on one dimension, sortable, and its CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.contract import Benchmark, Method, SliceDimension
from leaderboard.benchmark.models import DatasetRelease
from leaderboard.benchmark.visibility import is_staff
from leaderboard.boards.disparity import SORTS, DisparityRow, board_disparities
from leaderboard.boards.params import resolve_release
from leaderboard.boards.views.board import spreadsheet_safe


def _state(
    request: HttpRequest, benchmark: str
) -> tuple[DatasetRelease, Benchmark, Method, SliceDimension, str]:
    """The release, method, dimension and sort the query string asks for (a 404 naming what
    the benchmark does not declare)."""
    release = resolve_release(request.GET, staff=is_staff(request.user), benchmark=benchmark)
    declared = get_benchmark(benchmark)
    if not declared.slices:
        raise Http404(f"{declared.name} declares no slice dimensions")
    method_key = request.GET.get("method") or declared.methods[0].key
    if method_key not in [m.key for m in declared.methods]:
        raise Http404(f"Unknown method {method_key!r}")
    dimension_key = request.GET.get("dimension") or declared.slices[0].key
    if dimension_key not in [d.key for d in declared.slices]:
        raise Http404(f"Unknown slice dimension {dimension_key!r}")
    sort = request.GET.get("sort", "disparity")
    return (
        release,
        declared,
        declared.method(method_key),
        declared.slice_dimension(dimension_key),
        sort if sort in SORTS else "disparity",
    )


def disparity_board(request: HttpRequest, benchmark: str) -> HttpResponse:
    release, declared, method, dimension, sort = _state(request, benchmark)
    rows = board_disparities(release, declared, method, dimension, sort)
    context: dict[str, Any] = {
        "benchmark": declared,
        "release": release,
        "method": method,
        "dimension": dimension,
        "sort": sort,
        "rows": rows,
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
        "model": model.name,
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


def disparity_export(request: HttpRequest, benchmark: str) -> HttpResponse:
    release, declared, method, dimension, sort = _state(request, benchmark)
    rows = board_disparities(release, declared, method, dimension, sort)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in _record(r).items()} for r in rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"{declared.file_stem(release.version)}-disparity-{method.key}-{dimension.key}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
