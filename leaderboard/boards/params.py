"""Reads a board's view state from the query string (all of it lives in the URL)."""

from __future__ import annotations

from django.http import Http404, QueryDict

from leaderboard.benchmark.models import DatasetRelease, Mode, Nation
from leaderboard.boards.queries import OVERALL, SIZE_BUCKETS, SORT_KEYS, BoardQuery
from leaderboard.evals.models import Method, ModelType, Precision

DEFAULT_COLUMNS = ("params", "type", "precision", "ci", "n", "posneg")
ALL_COLUMNS = {
    "params": "Parameters",
    "type": "Type",
    "precision": "Precision",
    "ci": "95% CI",
    "n": "n",
    "posneg": "Position rates",
    "family": "Family",
    "revision": "Revision",
}


def _choices(values: list[str], allowed: set[str]) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if v in allowed}))


def parse_board_query(params: QueryDict, *, staff: bool = False) -> BoardQuery:
    version = params.get("release", "")
    releases = DatasetRelease.objects.all() if staff else DatasetRelease.objects.published()
    release = releases.filter(version=version).first() if version else DatasetRelease.objects.current()
    if release is None:
        raise Http404("No such release" if version else "No published release yet")
    nation = params.get("nation", OVERALL)
    if nation != OVERALL and not Nation.objects.filter(code=nation).exists():
        raise Http404(f"Unknown nation {nation!r}")
    mode = params.get("mode", Mode.QUOTED)
    if mode not in (Mode.QUOTED, Mode.OFFICIAL):
        raise Http404(f"Unknown mode {mode!r}")
    method = params.get("method", Method.MC)
    if method not in Method.values:
        raise Http404(f"Unknown method {method!r}")
    sort = params.get("sort", "rank")
    nation_codes = set(Nation.objects.values_list("code", flat=True))
    if sort not in SORT_KEYS and sort not in nation_codes:
        sort = "rank"
    order = params.get("order", "")
    return BoardQuery(
        release=release,
        nation=nation,
        mode=mode,
        method=method,
        model_types=_choices(params.getlist("type"), set(ModelType.values)),
        precisions=_choices(params.getlist("precision"), set(Precision.values)),
        sizes=_choices(params.getlist("size"), {*SIZE_BUCKETS, "unknown"}),
        family=params.get("family", "").strip()[:64],
        search=params.get("q", "").strip()[:100],
        sort=sort,
        order=order if order in ("asc", "desc") else "",
    )


def parse_columns(params: QueryDict) -> list[str]:
    chosen = [c for c in params.getlist("col") if c in ALL_COLUMNS]
    return chosen or list(DEFAULT_COLUMNS)
