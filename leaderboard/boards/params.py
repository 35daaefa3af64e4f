"""Reads a board's view state from the query string (all of it lives in the URL)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from django.http import Http404, QueryDict

from evaluation.benchmarks import benchmark_slugs, get_benchmark
from evaluation.benchmarks.contract import SliceDimension
from leaderboard.boards.queries import OVERALL, SIZE_BUCKETS, SORT_KEYS, BoardQuery, BoardRow
from leaderboard.catalog.counts import slice_values
from leaderboard.catalog.models import DatasetRelease
from leaderboard.catalog.visibility import release_not_found
from leaderboard.evals.models import ModelType, Precision

DEFAULT_COLUMNS = ("ranks", "params", "type", "precision", "ci", "n", "posneg")
ALL_COLUMNS = {
    "ranks": "Rank range",
    "params": "Parameters",
    "type": "Type",
    "precision": "Precision",
    "ci": "95% CI",
    "n": "n",
    "posneg": "Parts",
    "family": "Family",
    "revision": "Revision",
}


def _choices(values: list[str], allowed: set[str]) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if v in allowed}))


def resolve_release(
    params: QueryDict, *, staff: bool = False, benchmark: str | None = None
) -> DatasetRelease:
    """`?release=VERSION` (drafts only for staff), else the benchmark's newest published
    release. Without a benchmark (the API's `?benchmark=`, else the first registered), any
    benchmark's release is found by its version."""
    version = params.get("release", "")
    slug = benchmark or params.get("benchmark", "") or ""
    releases = DatasetRelease.objects.all() if staff else DatasetRelease.objects.published()
    releases = releases.select_related("benchmark")
    if slug or not version:
        releases = releases.filter(benchmark__slug=slug or benchmark_slugs()[0])
    release = releases.filter(version=version).first() if version else releases.current()
    if release is None and version and benchmark:
        raise release_not_found(benchmark, version, staff=staff)
    if release is None:
        raise Http404(f"No release {version!r}" if version else "No published release yet")
    return release


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


Keyed = TypeVar("Keyed", bound=_Keyed)


def chosen_option(
    params: QueryDict, name: str, options: Sequence[Keyed], *, none: str, unknown: str
) -> Keyed:
    """`?NAME=KEY` among a benchmark's declared OPTIONS (default: the first); a 404 saying
    NONE where it declares none, or UNKNOWN (`{key}` filled in) for a key it does not."""
    if not options:
        raise Http404(none)
    wanted = params.get(name) or options[0].key
    found = next((option for option in options if option.key == wanted), None)
    if found is None:
        raise Http404(unknown.format(key=repr(wanted)))
    return found


def parse_board_query(
    params: QueryDict, *, staff: bool = False, benchmark: str | None = None
) -> BoardQuery:
    """The board's view state, checked against the release's benchmark: its averaged
    dimension's value (`?nation=us`, or the overall), the other dimensions' values
    (`?mode=official`), `?method=` and `?metric=` as it declares them."""
    release = resolve_release(params, staff=staff, benchmark=benchmark)
    declared = get_benchmark(release.benchmark.slug)
    held = slice_values(release)

    def known(dimension: SliceDimension, value: str) -> bool:
        # Held by the release, or labelled by the declaration (a view of a value the release
        # lacks answers, and ranks nobody).
        in_release = value in held.get(dimension.key, []) or value in dimension.value_labels
        return in_release and value not in dimension.unscored

    averaged = declared.averaged_dimension
    column = OVERALL
    if averaged is not None:
        column = params.get(averaged.key, OVERALL) or OVERALL
        if column != OVERALL and not known(averaged, column):
            raise Http404(f"Unknown {averaged.label.lower()} {column!r}")
    chosen: list[tuple[str, str]] = []
    for dimension in declared.slices:
        value = params.get(dimension.key, "")
        if dimension.averaged or not value:
            continue
        if not known(dimension, value):
            raise Http404(f"Unknown {dimension.label.lower()} {value!r}")
        chosen.append((dimension.key, value))
    method_key = params.get("method", "") or declared.methods[0].key
    if method_key not in [m.key for m in declared.methods]:
        raise Http404(f"Unknown method {method_key!r}")
    method = declared.method(method_key)
    metric = params.get("metric", "")
    if metric and metric not in [m.key for m in method.metrics]:
        raise Http404(f"Unknown metric {metric!r}")
    sort = params.get("sort", "rank")
    columns = held.get(averaged.key, []) if averaged else []
    if sort not in SORT_KEYS and sort not in columns:
        sort = "rank"
    order = params.get("order", "")
    return BoardQuery(
        release=release,
        column=column,
        slices=tuple(chosen),
        method=method.key,
        metric="" if metric == method.primary else metric,
        model_types=_choices(params.getlist("type"), set(ModelType.values)),
        precisions=_choices(params.getlist("precision"), set(Precision.values)),
        sizes=_choices(params.getlist("size"), {*SIZE_BUCKETS, "unknown"}),
        family=params.get("family", "").strip()[:64],
        search=params.get("q", "").strip()[:100],
        sort=sort,
        order=order if order in ("asc", "desc") else "",
    )


def parse_columns(params: QueryDict, empty: Collection[str] = ()) -> list[str]:
    """Chosen optional columns; an explicit empty `col=` means none, no `col` the defaults
    less the EMPTY ones (a column with nothing to show in any row is off until asked for)."""
    if "col" not in params:
        return [c for c in DEFAULT_COLUMNS if c not in empty]
    return [c for c in ALL_COLUMNS if c in params.getlist("col")]


def empty_columns(rows: Iterable[BoardRow]) -> set[str]:
    """The optional columns that would read "—" in every row."""
    rows = list(rows)
    filled: dict[str, Callable[[BoardRow], bool]] = {
        "ranks": lambda r: r.rank_best is not None,
        "params": lambda r: r.params_billions is not None,
        "type": lambda r: bool(r.model_type),
        "precision": lambda r: bool(r.precision),
        "ci": lambda r: r.primary is not None,
        "n": lambda r: r.n is not None,
        "posneg": lambda r: any(v is not None for v in r.parts.values()),
        "family": lambda r: bool(r.family),
        "revision": lambda r: bool(r.revision),
    }
    return {key for key, has in filled.items() if not any(has(r) for r in rows)}


#: a primary key as a query string may name one: ASCII digits that fit a 64-bit key (`isdigit`
#: also takes "²", which int() refuses, and a longer number overflows the database's integer)
_PK = re.compile(r"[0-9]{1,18}")


def parse_pk(text: str) -> int | None:
    """TEXT as a primary key, or None where it cannot be one."""
    return int(text) if _PK.fullmatch(text) else None


def parse_model_ids(params: QueryDict) -> list[int]:
    """`?models=1,2,3` or `?models=1&models=2`: distinct ids in the order given."""
    ids: list[int] = []
    for value in params.getlist("models"):
        for part in value.split(","):
            pk = parse_pk(part.strip())
            if pk is not None and pk not in ids:
                ids.append(pk)
    return ids


def page_base(params: QueryDict) -> str:
    """The query string without `page`, ready for `page=N` to be appended."""
    rest = params.copy()
    rest.pop("page", None)
    encoded = rest.urlencode()
    return f"?{encoded}&" if encoded else "?"


def query_string_with(params: QueryDict, changes: dict[str, Any]) -> str:
    params = params.copy()
    # Any change to what the board shows starts again at its first page.
    params.pop("page", None)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + params.urlencode()
