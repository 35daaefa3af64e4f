"""Builds a leaderboard view in a constant number of queries, whatever the number of models.

One query finds each model's latest finished job on the release (a Subquery), one fetches
the scores of those jobs; everything else (means, CIs, ranks, sorting) happens in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery

from leaderboard.benchmark.models import DatasetRelease, Mode, Nation
from leaderboard.boards.ranking import Interval, mean_interval, shared_ranks
from leaderboard.evals.models import EvaluationJob, JobStatus, LanguageModel, Method, Score

OVERALL = "overall"
SIZE_BUCKETS: dict[str, tuple[float, float]] = {
    "lt3": (0.0, 3.0),
    "3to10": (3.0, 10.0),
    "10to35": (10.0, 35.0),
    "gt35": (35.0, float("inf")),
}
SIZE_LABELS = {"lt3": "< 3B", "3to10": "3–10B", "10to35": "10–35B", "gt35": "> 35B", "unknown": "unknown"}
SORT_KEYS = ("rank", "score", "name", "params", "type", "precision")


@dataclass(frozen=True)
class BoardQuery:
    release: DatasetRelease
    nation: str = OVERALL
    mode: str = Mode.QUOTED
    method: str = Method.MC
    model_types: tuple[str, ...] = ()
    precisions: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    family: str = ""
    search: str = ""
    sort: str = "rank"
    order: str = ""  # "asc" | "desc" | "" for the column's natural order

    def cache_key(self) -> str:
        parts = [
            self.release.version, self.nation, self.mode, self.method, ",".join(self.model_types),
            ",".join(self.precisions), ",".join(self.sizes), self.family, self.search, self.sort,
            self.order,
        ]
        return "board:" + "|".join(parts)


@dataclass
class Cell:
    value: float
    ci_low: float
    ci_high: float
    stderr: float
    n: int
    pos_rate: float | None
    neg_rate: float | None


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
    cells: dict[str, Cell] = field(default_factory=dict)
    primary: Interval | None = None
    rank: int | None = None

    @property
    def complete(self) -> bool:
        return self.primary is not None

    def as_dict(self, nation_codes: list[str]) -> dict[str, Any]:
        record: dict[str, Any] = {
            "rank": self.rank,
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
        }
        for code in nation_codes:
            cell = self.cells.get(code)
            record[f"{code}"] = round(cell.value, 6) if cell else None
            record[f"{code}_ci_low"] = round(cell.ci_low, 6) if cell else None
            record[f"{code}_ci_high"] = round(cell.ci_high, 6) if cell else None
            record[f"{code}_n"] = cell.n if cell else None
        return record


@dataclass
class Board:
    query: BoardQuery
    nations: list[Nation]
    rows: list[BoardRow]

    @property
    def nation_codes(self) -> list[str]:
        return [n.code for n in self.nations]

    @property
    def ranked(self) -> list[BoardRow]:
        return [r for r in self.rows if r.complete]

    @property
    def incomplete(self) -> list[BoardRow]:
        return [r for r in self.rows if not r.complete]


def latest_finished_job(release: DatasetRelease) -> Subquery:
    return Subquery(
        EvaluationJob.objects.filter(
            model=OuterRef("pk"), release=release, status=JobStatus.FINISHED
        )
        .order_by("-finished_at", "-id")
        .values("pk")[:1]
    )


def models_on_release(query: BoardQuery) -> QuerySet[LanguageModel]:
    models = LanguageModel.objects.annotate(latest_job_id=latest_finished_job(query.release)).filter(
        latest_job_id__isnull=False
    )
    if query.model_types:
        models = models.filter(model_type__in=query.model_types)
    if query.precisions:
        models = models.filter(precision__in=query.precisions)
    if query.family:
        models = models.filter(family__iexact=query.family)
    if query.search:
        models = models.filter(Q(name__icontains=query.search) | Q(family__icontains=query.search))
    if query.sizes:
        size_q = Q()
        for bucket in query.sizes:
            if bucket == "unknown":
                size_q |= Q(params_billions__isnull=True)
            elif bucket in SIZE_BUCKETS:
                low, high = SIZE_BUCKETS[bucket]
                size_q |= Q(params_billions__gte=low, params_billions__lt=high)
        models = models.filter(size_q)
    return models


def build_board(query: BoardQuery) -> Board:
    nations = list(Nation.objects.all())
    models = list(
        models_on_release(query).values(
            "pk", "name", "revision", "model_type", "precision", "params_billions", "family",
            "latest_job_id",
        )
    )
    rows = {
        m["latest_job_id"]: BoardRow(
            model_id=m["pk"], name=m["name"],
            display_name=f"{m['name']}@{m['revision'][:7]}" if m["revision"] else m["name"],
            revision=m["revision"], model_type=m["model_type"], precision=m["precision"],
            params_billions=m["params_billions"], family=m["family"], job_id=m["latest_job_id"],
        )
        for m in models
    }
    scores = Score.objects.filter(
        job_id__in=list(rows), mode__code=query.mode, method=query.method
    ).values_list(
        "job_id", "nation__code", "value", "ci_low", "ci_high", "stderr", "n", "pos_rate", "neg_rate"
    )
    for job_id, nation_code, value, low, high, se, n, pos, neg in scores:
        rows[job_id].cells[nation_code] = Cell(value, low, high, se, n, pos, neg)
    codes = [n.code for n in nations]
    for row in rows.values():
        row.primary = _primary(row, query.nation, codes)
    ordered = list(rows.values())
    for row, rank in zip(ordered, shared_ranks([r.primary for r in ordered]), strict=True):
        row.rank = rank
    return Board(query=query, nations=nations, rows=sort_rows(ordered, query))


def _primary(row: BoardRow, nation: str, codes: list[str]) -> Interval | None:
    if nation == OVERALL:
        cells = [row.cells.get(code) for code in codes]
        if any(c is None for c in cells):
            return None  # never rank a model on an incomplete set of nations
        present = [c for c in cells if c is not None]
        return mean_interval([c.value for c in present], [c.stderr for c in present])
    cell = row.cells.get(nation)
    return Interval(cell.value, cell.ci_low, cell.ci_high) if cell else None


def sort_rows(rows: list[BoardRow], query: BoardQuery) -> list[BoardRow]:
    def score_key(r: BoardRow) -> float:
        return r.primary.value if r.primary else float("-inf")

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
        cell = r.cells.get(sort)  # a nation column
        return (cell.value if cell else float("-inf"),)

    # Rank, score and nation columns read best-first by default; the others ascending.
    best_first = query.sort in ("rank", "score") or query.sort not in SORT_KEYS
    reverse = query.order == "desc" if query.order else best_first
    if query.sort == "rank" and query.order:
        reverse = query.order == "asc"  # rank 1 first is "ascending" to a reader
    complete = sorted([r for r in rows if r.complete], key=column_key, reverse=reverse)
    incomplete = sorted([r for r in rows if not r.complete], key=lambda r: r.name.lower())
    return complete + incomplete
