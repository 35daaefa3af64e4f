"""Citable snapshots: staff freeze a board view; its dated page and JSON never change."""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from evaluation.benchmarks import get_benchmark
from leaderboard.boards.models import BoardSnapshot
from leaderboard.boards.params import parse_board_query
from leaderboard.boards.snapshots import freeze
from leaderboard.catalog.visibility import is_staff


@require_POST
def freeze_board(request: HttpRequest, benchmark: str) -> HttpResponse:
    """Freeze the view the board's query string names (filters dropped) and go to it."""
    if not is_staff(request.user):
        raise PermissionDenied("Only staff freeze boards.")
    query = parse_board_query(request.GET, staff=True, benchmark=benchmark)
    snapshot = freeze(query, request.user, note=request.POST.get("note", "")[:2000])
    return HttpResponseRedirect(snapshot.get_absolute_url())


def snapshot_list(request: HttpRequest, benchmark: str) -> HttpResponse:
    snapshots = BoardSnapshot.objects.filter(benchmark__slug=benchmark).select_related("release")
    context = {"benchmark": get_benchmark(benchmark), "snapshots": snapshots}
    return render(request, "boards/snapshot_list.html", context)


def snapshot_detail(request: HttpRequest, benchmark: str, slug: str) -> HttpResponse:
    snapshot = get_object_or_404(BoardSnapshot, benchmark__slug=benchmark, slug=slug)
    payload = snapshot.payload
    context = {
        "benchmark": get_benchmark(benchmark),
        "snapshot": snapshot,
        "data": payload,
        "kind": payload["metric_kind"],
        "columns": payload["columns"],
    }
    return render(request, "boards/snapshot_detail.html", context)


def snapshot_json(request: HttpRequest, benchmark: str, slug: str) -> HttpResponse:
    snapshot = get_object_or_404(BoardSnapshot, benchmark__slug=benchmark, slug=slug)
    body = {
        "snapshot": snapshot.slug,
        "title": snapshot.title,
        "note": snapshot.note,
        "url": request.build_absolute_uri(snapshot.get_absolute_url()),
        **snapshot.payload,
    }
    response = HttpResponse(json.dumps(body, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'inline; filename="{benchmark}-snapshot-{slug}.json"'
    return response
