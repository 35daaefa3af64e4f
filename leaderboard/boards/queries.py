"""Builds a leaderboard view in a constant number of queries, whatever the number of models.

One query finds each model's latest finished job on the release, one reads those models, one
the scores of those jobs; everything else (means, CIs, ranks, sorting) happens in Python.
The result is cached (see cache.py) and invalidated whenever results change.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    Q,
    QuerySet,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Cast
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from evaluation.benchmarks.contract import BenchmarkDefinition, Method, Metric
from evaluation.local_models import public_name
from evaluation.results import MEASURE_FIELDS, Measure, slice_key
from leaderboard.binary_rows import fetch_rows
from leaderboard.boards.cache import cached_value
from leaderboard.boards.judges import recorded_judges
from leaderboard.boards.rank_spread import RANK_RESAMPLES, RankedScore, Spread, rank_spread
from leaderboard.boards.ranking import Interval, mean_interval, shared_ranks
from leaderboard.catalog.counts import slice_values
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.models import (
    EvaluationJob,
    LanguageModel,
    Score,
    hub_card_url,
    model_display_name,
)
from leaderboard.evals.slices import declaration, item_slice_paths, slice_order

OVERALL = "overall"
SIZE_BUCKETS: dict[str, tuple[float, float]] = {
    "lt3": (0.0, 3.0),
    "3to10": (3.0, 10.0),
    "10to35": (10.0, 35.0),
    "gt35": (35.0, float("inf")),
}
SIZE_LABELS = {
    "lt3": "< 3B",
    "3to10": "3-10B",
    "10to35": "10-35B",
    "gt35": "> 35B",
    "unknown": "unknown",
}
# Per-column export columns (NaVAB: "us", "us_ci_low", "us_ci_high", "us_n").
COLUMN_SUFFIXES = ("", "_ci_low", "_ci_high", "_n")
SORT_KEYS = ("rank", "score", "name", "params", "type", "precision")


@dataclass(frozen=True)
class BoardQuery:
    """A board's view state. The cell it ranks on is read from the benchmark's declaration:
    `column` is a value of the averaged dimension (NaVAB: a nation) or the overall mean over
    them, `slices` the chosen values of the other dimensions (NaVAB: the mode tab)."""

    release: DatasetRelease
    column: str = OVERALL
    slices: tuple[tuple[str, str], ...] = ()
    method: str = ""  # "" for the benchmark's first method
    metric: str = ""  # "" for the method's primary metric
    model_types: tuple[str, ...] = ()
    precisions: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    family: str = ""
    search: str = ""
    sort: str = "rank"
    order: str = ""  # "asc" | "desc" | "" for the column's natural order

    @property
    def direction(self) -> str:
        """The order rows are shown in, "asc" or "desc": rank, score and value columns read
        best-first unless asked otherwise (rank 1 first is "asc"), the others ascending."""
        if self.order:
            return self.order
        if self.sort == "rank":
            return "asc"
        return "asc" if self.sort in SORT_KEYS and self.sort != "score" else "desc"

    def cache_key(self) -> str:
        parts = [
            self.release.version,
            self.column,
            ",".join(f"{key}={value}" for key, value in self.slices),
            self.method,
            self.metric,
            ",".join(self.model_types),
            ",".join(self.precisions),
            ",".join(self.sizes),
            self.family,
            self.search,
            self.sort,
            self.order,
        ]
        # Hashed: family and search are free text, and cache keys must stay short and plain.
        digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
        return f"board:{digest}"


@dataclass(frozen=True)
class Column:
    """A value of the benchmark's averaged dimension (NaVAB: a nation) shown as a column."""

    code: str
    name: str


def _round(value: float | None) -> float | None:
    return round(value, 6) if value is not None else None


@dataclass
class BoardRow:
    model_id: int
    name: str
    display_name: str
    revision: str
    model_type: str
    precision: str
    params_billions: float | None
    family: str
    job_id: int
    cells: dict[str, Measure] = field(default_factory=dict)
    primary: Interval | None = None  # the ranked score: the column's cell, or the mean
    rank: int | None = None
    # The best and worst rank over the board's bootstrap resamples (rank_spread.py).
    rank_best: int | None = None
    rank_worst: int | None = None
    # Over the cells behind `primary`: items, and each declared sub-metric (mean over cells).
    n: int | None = None
    parts: dict[str, float | None] = field(default_factory=dict)
    #: when its job finished, and the hub page of the model at its pinned commit ("" if none)
    evaluated_at: datetime | None = None
    card_url: str = ""

    @property
    def complete(self) -> bool:
        return self.primary is not None

    def packed(self) -> tuple[Any, ...]:
        """Its fields in order, its cells and ranked score as plain tuples (`Board` pickles
        its rows so)."""
        values = list(_row_fields(self))
        values[_CELLS_AT] = {code: _measured(cell) for code, cell in self.cells.items()}
        values[_PRIMARY_AT] = _interval(self.primary) if self.primary is not None else None
        return tuple(values)

    @classmethod
    def unpacked(cls, packed: tuple[Any, ...]) -> BoardRow:
        values = list(packed)
        values[_CELLS_AT] = {code: Measure(*cell) for code, cell in packed[_CELLS_AT].items()}
        primary = packed[_PRIMARY_AT]
        values[_PRIMARY_AT] = Interval(*primary) if primary is not None else None
        return cls(*values)

    @staticmethod
    def part_field(key: str, counted: Collection[str]) -> str:
        """A sub-metric's export column: a rate, or a count of items (unparsable answers)."""
        return f"{key}_count" if key in counted else f"{key}_rate"

    @staticmethod
    def export_fields(
        column_codes: list[str], part_keys: list[str], counted: Collection[str] = ()
    ) -> list[str]:
        """The keys of `as_dict`, in order (a CSV of no rows still gets its header)."""
        head = [
            "rank",
            "rank_best",
            "rank_worst",
            "complete",
            "model_id",
            "model",
            "revision",
            "model_type",
            "precision",
            "params_billions",
            "family",
            "job_id",
            "score",
            "ci_low",
            "ci_high",
            "n",
            *(BoardRow.part_field(key, counted) for key in part_keys),
        ]
        per_column = [f"{code}{suffix}" for code in column_codes for suffix in COLUMN_SUFFIXES]
        return head + per_column

    def as_dict(
        self, column_codes: list[str], part_keys: list[str], counted: Collection[str] = ()
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "rank": self.rank,
            "rank_best": self.rank_best,
            "rank_worst": self.rank_worst,
            "complete": self.complete,
            "model_id": self.model_id,
            "model": self.name,
            "revision": self.revision,
            "model_type": self.model_type,
            "precision": self.precision,
            "params_billions": self.params_billions,
            "family": self.family,
            "job_id": self.job_id,
            "score": round(self.primary.value, 6) if self.primary else None,
            "ci_low": round(self.primary.low, 6) if self.primary else None,
            "ci_high": round(self.primary.high, 6) if self.primary else None,
            "n": self.n,
            **{self.part_field(k, counted): _round(self.parts.get(k)) for k in part_keys},
        }
        for code in column_codes:
            cell = self.cells.get(code)
            values = (cell.value, cell.ci_low, cell.ci_high, cell.n) if cell else (None,) * 4
            for suffix, value in zip(COLUMN_SUFFIXES, values, strict=True):
                record[f"{code}{suffix}"] = round(value, 6) if isinstance(value, float) else value
        return record


_ROW_FIELDS = tuple(f.name for f in fields(BoardRow))
_CELLS_AT = _ROW_FIELDS.index("cells")
_PRIMARY_AT = _ROW_FIELDS.index("primary")
_row_fields = attrgetter(*_ROW_FIELDS)
_measured = attrgetter(*MEASURE_FIELDS)
_interval = attrgetter(*(f.name for f in fields(Interval)))


@dataclass
class Board:
    query: BoardQuery
    columns: list[Column]  # the averaged dimension's values the release holds in this view
    rows: list[BoardRow]  # the rows the filters select, in the query's order
    total: int = 0  # models on the release before filtering (the population ranks count)
    tied_ranks: set[int] = field(default_factory=set)  # ranks shared by several models: "=2"
    #: the method's declared sub-metrics: (key, label)
    parts: list[tuple[str, str]] = field(default_factory=list)
    #: the sub-metrics shown as item counts
    counted: set[str] = field(default_factory=set)
    #: what the board shows, resolved from the query and the declaration
    method: Method | None = None
    metric: Metric | None = None
    #: the chosen value of each dimension other than the averaged one (defaults filled in)
    selected: dict[str, str] = field(default_factory=dict)
    #: the judges (name@revision) behind a judged method's numbers: the reference judge or a panel
    judges: list[str] = field(default_factory=list)
    #: the replicates each row's rank range is drawn from, and why there is none ("" if any)
    rank_resamples: int = RANK_RESAMPLES
    rank_spread_note: str = ""

    def __getstate__(self) -> dict[str, Any]:
        # Pickled (into the shared cache, once a board version) with its rows as tuples:
        # pickled as objects, a 1,000-model NaVAB board's 4,500 rows and cells were most of
        # storing it, and as long again to read back.
        state = dict(vars(self))
        state["rows"] = [row.packed() for row in self.rows]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["rows"] = [BoardRow.unpacked(packed) for packed in state["rows"]]
        vars(self).update(state)

    @property
    def part_labels(self) -> list[str]:
        return [label for _, label in self.parts]

    @property
    def column_codes(self) -> list[str]:
        return [c.code for c in self.columns]

    def state(self) -> dict[str, str]:
        """What the board shows, keyed by the declaration's names (NaVAB: nation, mode,
        method), for its exports and the API."""
        benchmark = declaration(self.query.release)
        averaged = benchmark.averaged_dimension
        state = {averaged.key: self.query.column} if averaged else {}
        state.update(self.selected)
        if self.method is not None and self.metric is not None:
            state["method"] = self.method.key
            if self.metric.key != self.method.primary:
                state["metric"] = self.metric.key
        return state

    @property
    def part_keys(self) -> list[str]:
        return [key for key, _ in self.parts]

    @property
    def ranked(self) -> list[BoardRow]:
        return [r for r in self.rows if r.complete]

    @property
    def incomplete(self) -> list[BoardRow]:
        return [r for r in self.rows if not r.complete]


@dataclass(frozen=True)
class MethodGaps:
    """What the latest runs on a release did not score of one method: why they left it out
    (their cards' `not_run`, with how many models each reason applies to, most frequent
    first), and the models that left items out as longer than a context (their cards'
    `too_long`: the model, how many items, the context in tokens)."""

    not_run: list[tuple[str, int]]
    left_out: list[tuple[LanguageModel, int, int]]


def method_gaps(release: DatasetRelease, method: str) -> MethodGaps:
    """The gaps of METHOD on RELEASE, read from the latest jobs' cards in one query (only the
    jobs whose card names one: most have none, and a thousand cards cost more to read than
    the page to draw)."""
    reasons: Counter[str] = Counter()
    left = []
    named = Q(repro_card__not_run__has_key=method) | Q(repro_card__too_long__has_key=method)
    jobs = LanguageModel.objects.latest_jobs(release).filter(named).select_related("model")
    for job in jobs.order_by("model__name"):
        card = job.repro_card if isinstance(job.repro_card, dict) else {}
        if method in (card.get("not_run") or {}):
            reasons[str(card["not_run"][method])] += 1
        counts = (card.get("too_long") or {}).get(method)
        if counts:
            left.append((job.model, int(counts["n"]), int(counts["context"])))
    return MethodGaps(reasons.most_common(), left)


@dataclass(frozen=True)
class ModelOptions:
    """The models a picker offers on a release, by name, as the `<option>`s of a select,
    rendered once a board version (a compare page has four pickers: rendered by its template,
    a thousand models' options were most of the page, and grew it with every model)."""

    html: str

    def selecting(self, pk: int | None) -> SafeString:
        """The options with model PK's selected (none where PK is not among them). Safe:
        `html` was escaped by format_html_join, and a number is all that is added."""
        if pk is None:
            return mark_safe(self.html)
        opening = f'<option value="{int(pk)}">'
        return mark_safe(self.html.replace(opening, f'<option value="{int(pk)}" selected>', 1))


def model_options(release: DatasetRelease) -> ModelOptions:
    """`ModelOptions` of RELEASE: each model on it by its `display_name`."""

    def render() -> ModelOptions:
        newest = EvaluationJob.objects.newest_ranked_on(release)
        shown = LanguageModel.objects.filter(pk__any=newest.keys()).order_by("name", "pk")
        models = shown.only("name", "revision", "publisher_run", "is_demo")
        rows = ((m.pk, m.display_name) for m in models)
        return ModelOptions(str(format_html_join("", '<option value="{}">{}</option>', rows)))

    return cached_value(f"model-options|{release.pk}", render)


def filters_q(query: BoardQuery) -> Q:
    """The board's filters and search as one condition on LanguageModel (empty: no filter)."""
    condition = Q()
    if query.model_types:
        condition &= Q(model_type__in=query.model_types)
    if query.precisions:
        condition &= Q(precision__in=query.precisions)
    if query.family:
        condition &= Q(family__iexact=query.family)
    if query.search:
        condition &= Q(name__icontains=query.search) | Q(family__icontains=query.search)
    if query.sizes:
        size_q = Q()
        for bucket in query.sizes:
            if bucket == "unknown":
                size_q |= Q(params_billions__isnull=True)
            else:
                low, high = SIZE_BUCKETS[bucket]
                size_q |= Q(params_billions__gte=low, params_billions__lt=high)
        condition &= size_q
    return condition


def board_selection(
    benchmark: BenchmarkDefinition, release: DatasetRelease, chosen: dict[str, str]
) -> dict[str, str]:
    """The values of the non-averaged dimensions a board shows, defaults filled in.

    Where a benchmark averages over a dimension (NaVAB: nations), its scores cross that
    dimension with every other tab dimension (NaVAB: nation x mode), so each of those needs a
    value: the first scored one the release holds. Elsewhere (DiverValue-Bench) scores are per
    slice or overall, and no choice means the overall."""
    averaged = benchmark.averaged_dimension
    selected = {d.key: chosen[d.key] for d in benchmark.slices if chosen.get(d.key)}
    if averaged is None:
        return selected
    held = slice_values(release)
    for dimension in benchmark.slices:
        if dimension.averaged or not dimension.tabs or dimension.key in selected:
            continue
        scored = [v for v in held.get(dimension.key, []) if v not in dimension.unscored]
        if scored:
            selected[dimension.key] = scored[0]
    return selected


def resolve_method(benchmark: BenchmarkDefinition, query: BoardQuery) -> tuple[Method, Metric]:
    method = benchmark.method(query.method) if query.method else benchmark.methods[0]
    metric = method.metric(query.metric) if query.metric else method.primary_metric
    return method, metric


def cached_board(query: BoardQuery) -> Board:
    """`build_board`, once per board version."""
    return cached_value(query.cache_key(), lambda: build_board(query))


def build_board(query: BoardQuery, *, lean: bool = False) -> Board:
    """Rank every model on the release, then keep the rows the filters select.

    Filters and search hide rows but never change a model's rank: a shared link to a filtered
    board shows the same ranks as the full board. One query reads the models (with a `shown`
    flag computed by the database from the filters), one the scores, one the slice values.
    A LEAN board holds who is ranked and their scores only, for pages that read nothing else
    (the map): no rank spread (most of a cold board, growing with the models) and no score
    parts.
    """
    benchmark = declaration(query.release)
    method, metric = resolve_method(benchmark, query)
    averaged = benchmark.averaged_dimension
    column_key = averaged.key if averaged else ""
    selected = board_selection(benchmark, query.release, dict(query.slices))
    codes = release_columns(query.release, benchmark, selected)
    columns = [Column(code, averaged.label_of(code) if averaged else code) for code in codes]
    condition = filters_q(query)
    shown = ExpressionWrapper(condition, output_field=BooleanField()) if condition else Value(True)
    newest = EvaluationJob.objects.newest_ranked_on(query.release)
    listed = LanguageModel.objects.filter(pk__any=newest.keys()).annotate(shown=shown)
    rows: dict[int, BoardRow] = {}
    visible_jobs: set[int] = set()
    # Read as plain tuples: a dict a model, then a BoardRow, was a tenth of a lean board.
    fields = ("pk", "name", "revision", "model_type", "precision", "params_billions", "family")
    # served from elsewhere than the hub: by a provider, an endpoint or local weights
    served = ("provider_id", "endpoint_url", "weights_path")
    for model in fetch_rows(listed.values_list(*fields, "shown", *served)):
        pk, name, revision, model_type, precision, params, family, shown_row = model[:8]
        job_id, evaluated_at = newest[pk]
        if shown_row:
            visible_jobs.add(job_id)
        rows[job_id] = BoardRow(
            model_id=pk,
            name=public_name(name),
            display_name=model_display_name(name, revision),
            revision=revision,
            model_type=model_type,
            precision=precision,
            params_billions=params,
            family=family,
            job_id=job_id,
            evaluated_at=evaluated_at,
            card_url="" if any(model[8:]) else hub_card_url(name, revision),
        )
    scores = Score.objects.filter(job_id__any=rows.keys(), method=method.key, metric=metric.key)
    # The cells of exactly the chosen slice (and one column of the averaged dimension the
    # release holds), named by their keys: only their scores are read. Told from the distinct
    # cells scored instead, a cold board read every score of every model (85,000 rows at
    # 1,000 models) to learn what the release already says.
    chosen = _chosen_cells(selected, column_key, codes)
    chosen_scores = scores.filter(slice_key__in=list(chosen))
    for job_id, key, measure in cell_measures(chosen_scores, parts=not lean):
        rows[job_id].cells[chosen[key]] = measure
    # A model with no score for this method at all is on another track (a chat model on a
    # log-likelihood board, or the reverse): it is left off, never listed as incomplete. Only
    # the models without a score in these cells are looked up (a DISTINCT over every model's
    # scores was a fifth of a cold board at 1,000 models).
    scored_jobs = {job_id for job_id, row in rows.items() if row.cells}
    unscored = [job_id for job_id in rows if job_id not in scored_jobs]
    scored_jobs |= set(
        scores.filter(job_id__any=unscored).order_by().values_list("job_id", flat=True).distinct()
    )
    min_n = _min_n(benchmark, selected, column_key)
    part_keys = [sub.key for sub in method.submetrics]
    counted = {sub.key for sub in method.submetrics if sub.counted}
    everyone = [row for row in rows.values() if row.job_id in scored_jobs]
    # Without an averaged dimension the board ranks the chosen slice's one cell (key "").
    column = query.column if averaged else ""
    scope = codes if column == OVERALL else [column]
    for row in everyone:
        row.primary = _primary(row.cells, column, codes, metric, min_n)
        if not lean:
            _scope_stats(row, scope, part_keys, counted)
    ranks = shared_ranks([r.primary for r in everyone], higher_is_better=metric.higher_is_better)
    for row, rank in zip(everyone, ranks, strict=True):
        row.rank = rank
    ranked = [row for row in everyone if row.primary is not None]
    found = (
        rank_spread(
            query.release,
            benchmark,
            method,
            metric,
            selected,
            column_key,
            [
                RankedScore(
                    row.job_id, {code: (row.cells[code].value, row.cells[code].n) for code in scope}
                )
                for row in ranked
            ],
        )
        if not lean
        else Spread({})
    )
    for row in ranked:
        row.rank_best, row.rank_worst = found.ranges.get(row.job_id, (None, None))
    counts = Counter(rank for rank in ranks if rank is not None)
    visible = [row for row in everyone if row.job_id in visible_jobs]
    return Board(
        query=query,
        columns=columns,
        rows=sort_rows(visible, query, higher_is_better=metric.higher_is_better),
        total=len(everyone),
        tied_ranks={rank for rank, count in counts.items() if count > 1},
        parts=[(sub.key, sub.label) for sub in method.submetrics],
        counted={sub.key for sub in method.submetrics if sub.counted},
        method=method,
        metric=metric,
        selected=selected,
        judges=recorded_judges(rows.keys(), method),
        rank_spread_note=found.note,
    )


#: where a measure's parts sit among its fields (`cell_measures` reads them as JSON text)
_PARTS_AT = MEASURE_FIELDS.index("parts")


def _chosen_cells(selected: dict[str, str], column_key: str, codes: list[str]) -> dict[str, str]:
    """slice key -> column of the cells a board ranks on: the chosen slice's own ("") or,
    where a dimension is averaged, the slice's cell in each of its columns (the slice's
    pooled cell is shown nowhere: read, it was a sixth of a NaVAB board's scores)."""
    if column_key:
        return {slice_key({**selected, column_key: code}): code for code in codes}
    return {slice_key(selected): ""}


def _min_n(benchmark: BenchmarkDefinition, selected: dict[str, str], column_key: str) -> int:
    return max(
        [d.min_n for d in benchmark.slices if d.key in selected or d.key == column_key] or [1]
    )


@dataclass(frozen=True)
class MethodScores:
    """One method's ranked score of each model on a board's cells (model id -> value)."""

    method: Method
    metric: Metric
    values: dict[int, float]


def board_scores(board: Board) -> MethodScores:
    """BOARD's own ranked scores (its rows the filters select)."""
    assert board.method is not None and board.metric is not None
    values = {r.model_id: r.primary.value for r in board.ranked if r.primary is not None}
    return MethodScores(board.method, board.metric, values)


def method_scores(board: Board, method: Method) -> MethodScores:
    """Another METHOD's ranked score (its primary metric), on BOARD's cells, of the models
    BOARD ranks, as a board of METHOD would rank them: what the board's agreement chart sets
    against its own. One query for their jobs' scores of those cells, reduced by the database
    to a row a job; no board of METHOD is built (its models, parts, ranks and order, a third
    of a cold board at 1,000 models), and no measure is made of each cell (read as measures,
    the other method's cells were a tenth of a cold NaVAB board at 1,000 models)."""
    benchmark = declaration(board.query.release)
    metric = method.primary_metric
    averaged = benchmark.averaged_dimension
    column_key = averaged.key if averaged else ""
    codes = [c.code for c in board.columns]
    jobs = {row.job_id: row.model_id for row in board.ranked}
    scores = Score.objects.filter(
        job_id__any=jobs.keys(), method=method.key, metric=metric.key
    ).order_by()
    column = board.query.column if averaged else ""
    if column == OVERALL:
        # The mean over every column's cell, ranked only where each column has one (the
        # cells are unique a job, method, metric and key: see Score).
        keys = list(_chosen_cells(board.selected, column_key, codes))
        sums = (
            scores.filter(slice_key__in=keys)
            .values("job_id")
            .annotate(total=Sum("value"), cells=Count("value"))
            .values_list("job_id", "total", "cells")
        )
        found = fetch_rows(sums) if codes else []
        values = {jobs[job]: total / cells for job, total, cells in found if cells == len(codes)}
        return MethodScores(method, metric, values)
    # One cell, ranked as a board ranks a column's (`_primary`).
    key = slice_key({**board.selected, column_key: column} if column_key else board.selected)
    min_n = _min_n(benchmark, board.selected, column_key)
    cells = scores.filter(slice_key=key).values_list("job_id", "value", "n", "clusters")
    values = {
        jobs[job]: value
        for job, value, n, clusters in fetch_rows(cells)
        if n >= min_n and clusters != 1
    }
    return MethodScores(method, metric, values)


def cell_measures(scores: QuerySet[Score], *, parts: bool = True) -> list[tuple[int, str, Measure]]:
    """(job, slice key, measure) of each of SCORES; without PARTS their parts are left empty
    (not read). Parts are read as JSON text and decoded in one pass over all of them: decoded
    one score at a time (the JSONField's converter), they took a third of reading a
    1,000-model board's scores. Each measure is made from its row's values in field order (by
    keyword, through a dict a score, it took half as long again)."""
    scores = scores.order_by()  # in any order: each is placed by its job and cell
    if not parts:
        others = [name for name in MEASURE_FIELDS if name != "parts"]
        return [
            (row[0], row[1], Measure(*(*row[2 : 2 + _PARTS_AT], {}, *row[2 + _PARTS_AT :])))
            for row in fetch_rows(scores.values_list("job_id", "slice_key", *others))
        ]
    columns = ["parts_text" if name == "parts" else name for name in MEASURE_FIELDS]
    found = fetch_rows(
        scores.annotate(parts_text=Cast("parts", TextField())).values_list(
            "job_id", "slice_key", *columns
        )
    )
    cut = 2 + _PARTS_AT
    decoded = json.loads("[" + ",".join(row[cut] for row in found) + "]")
    return [
        (row[0], row[1], Measure(*(*row[2:cut], part, *row[cut + 1 :])))
        for row, part in zip(found, decoded, strict=True)
    ]


def release_columns(
    release: DatasetRelease, benchmark: BenchmarkDefinition, selected: dict[str, str]
) -> list[str]:
    """The averaged dimension's values the release holds items for within the selected values
    of the other dimensions: a model is complete when it has a score for each. Read from the
    manifest's counts (`BenchmarkDefinition.count_key`), else the items."""
    averaged = benchmark.averaged_dimension
    if averaged is None:
        return []
    counts: dict[str, int] = (release.manifest or {}).get("counts") or {}
    if counts:
        cells = [benchmark.count_values(key) for key, n in counts.items() if n]
    else:
        paths = item_slice_paths(benchmark)
        values = release.items.values_list(*paths.values()).distinct()
        cells = [dict(zip(paths, row, strict=True)) for row in values]
    held = {
        cell.get(averaged.key, "")
        for cell in cells
        if all(cell.get(key) == value for key, value in selected.items())
    }
    return slice_order(benchmark, held, averaged.key)


def _primary(
    found: dict[str, Measure], column: str, codes: list[str], metric: Metric, min_n: int
) -> Interval | None:
    """The ranked interval of a model's cells FOUND (by column): one cell's, or (the overall)
    the mean over every column's."""
    if column == OVERALL:
        if not codes:
            return None  # the slice covers no column on this release: nothing to rank on
        cells = [found.get(code) for code in codes]
        if not cells or any(c is None for c in cells):
            return None  # never rank a model on an incomplete set of columns
        present = [c for c in cells if c is not None]
        return mean_interval(
            [c.value for c in present],
            [c.stderr for c in present],
            lower=metric.lower,
            upper=metric.upper,
        )
    cell = found.get(column)
    if cell is None or cell.n < min_n or cell.clusters == 1:
        # A slice too small to rank, or of one cluster (one user: its interval is no
        # interval), is shown but never ranked.
        return None
    return Interval(cell.value, cell.ci_low, cell.ci_high)


def _scope_stats(row: BoardRow, codes: list[str], part_keys: list[str], counted: set[str]) -> None:
    cells = [row.cells[code] for code in codes if code in row.cells]
    if not cells or len(cells) != len(codes):
        return
    row.n = sum(c.n for c in cells)
    for key in part_keys:
        if key in counted:
            # Items nobody could score (unparsable, refused answers): a count, summed.
            row.parts[key] = float(
                sum(int(part.get("n") or 0) for c in cells if (part := c.parts.get(key)))
            )
            continue
        values = [
            v for c in cells if (part := c.parts.get(key)) and (v := part.get("value")) is not None
        ]
        # Means over columns, like the score itself (a part missing anywhere leaves it unknown).
        row.parts[key] = sum(values) / len(values) if len(values) == len(cells) else None


def sort_rows(
    rows: list[BoardRow], query: BoardQuery, *, higher_is_better: bool = True
) -> list[BoardRow]:
    sign = 1.0 if higher_is_better else -1.0

    def score_key(r: BoardRow) -> float:
        # Oriented so that a larger key is always better.
        return sign * r.primary.value if r.primary else float("-inf")

    def column_key(r: BoardRow) -> tuple[Any, ...]:
        sort = query.sort
        if sort in ("rank", "score"):
            return (score_key(r),)
        if sort == "name":
            return (r.name.lower(),)
        if sort == "params":
            return (r.params_billions if r.params_billions is not None else -1.0,)
        if sort in ("type", "precision"):
            return (r.model_type if sort == "type" else r.precision, -score_key(r))
        cell = r.cells.get(sort)  # a column of the averaged dimension
        return (sign * cell.value if cell else float("-inf"),)

    # Rank 1 (the highest score) first is "ascending" to a reader.
    reverse = query.direction == ("asc" if query.sort == "rank" else "desc")
    complete = sorted([r for r in rows if r.complete], key=column_key, reverse=reverse)
    incomplete = sorted([r for r in rows if not r.complete], key=lambda r: r.name.lower())
    return complete + incomplete
