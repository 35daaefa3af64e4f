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


def resolve_release(params: QueryDict, *, staff: bool = False) -> DatasetRelease:
    """`?release=VERSION` (drafts only for staff), else the newest published release."""
    version = params.get("release", "")
    releases = DatasetRelease.objects.all() if staff else DatasetRelease.objects.published()
    release = (
        releases.filter(version=version).first() if version else DatasetRelease.objects.current()
    )
    if release is None:
        raise Http404(f"No release {version!r}" if version else "No published release yet")
    return release


def parse_board_query(params: QueryDict, *, staff: bool = False) -> BoardQuery:
    release = resolve_release(params, staff=staff)
    nation_codes = set(Nation.objects.values_list("code", flat=True))
    nation = params.get("nation", OVERALL)
    if nation != OVERALL and nation not in nation_codes:
        raise Http404(f"Unknown nation {nation!r}")
    mode = params.get("mode", Mode.QUOTED)
    if mode not in (Mode.QUOTED, Mode.OFFICIAL):
        raise Http404(f"Unknown mode {mode!r}")
    method = params.get("method", Method.MC)
    if method not in Method.values:
        raise Http404(f"Unknown method {method!r}")
    sort = params.get("sort", "rank")
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
    """Chosen optional columns; an explicit empty `col=` means none, no `col` the defaults."""
    if "col" not in params:
        return list(DEFAULT_COLUMNS)
    return [c for c in ALL_COLUMNS if c in params.getlist("col")]


def parse_model_ids(params: QueryDict) -> list[int]:
    """`?models=1,2,3` or `?models=1&models=2`: distinct ids in the order given."""
    ids: list[int] = []
    for value in params.getlist("models"):
        for part in value.split(","):
            part = part.strip()
            if part.isdigit() and int(part) not in ids:
                ids.append(int(part))
    return ids


def page_base(params: QueryDict) -> str:
    """The query string without `page`, ready for `page=N` to be appended."""
    rest = params.copy()
    rest.pop("page", None)
    encoded = rest.urlencode()
    return f"?{encoded}&" if encoded else "?"
