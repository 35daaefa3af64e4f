"""The publishers' reported results: imported from a small JSON file, shown beside a board.

A file names its benchmark, the source its figures come from (paper, table, commit, URL:
each row may override them) and its rows:

    {"benchmark": "divervalue",
     "source": {"paper": "...", "table": "...", "commit": "...", "url": "..."},
     "results": [{"release": "DVB-test", "model": "Qwen-7B", "method": "opa",
                  "values": {"opa": 0.2713}, "spreads": {}, "n": null, "slices": {},
                  "note": "", "comparable": true, "site_model": "org/name"}]}

Every row is checked against the benchmark's declaration before anything is written; a
re-import updates the rows it names (benchmark, release, model, slice, method) and adds none
twice. A benchmark ships its publisher's figures as `reported.json` in its folder
(`evaluation/benchmarks/<slug>/`), which the demo imports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from evaluation.benchmarks.contract import Metric
from evaluation.results import slice_key
from leaderboard.boards.models import ReportedResult, reported_problems
from leaderboard.boards.queries import OVERALL, Board
from leaderboard.catalog.models import Benchmark
from leaderboard.evals.models import EvaluationJob, LanguageModel
from leaderboard.evals.slices import declaration

LABEL = "reported by the publisher, not run here"
SOURCE_FIELDS = {"paper": "source_paper", "table": "source_table", "commit": "source_commit"}


class ReportedFileError(ValueError):
    """A reported-results file that cannot be imported; nothing was written."""


def import_reported(path: Path) -> tuple[int, int]:
    """Import PATH's rows: (created, updated). Raises ReportedFileError listing every bad row."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReportedFileError(f"{path}: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ReportedFileError(f'{path}: expected an object with a "results" list')
    slug = str(data.get("benchmark", ""))
    benchmark = Benchmark.objects.filter(slug=slug).first()
    if benchmark is None:
        raise ReportedFileError(f"{path}: unknown benchmark {slug!r}")
    source: dict[str, Any] = data["source"] if isinstance(data.get("source"), dict) else {}
    rows, errors = [], []
    for index, record in enumerate(data["results"]):
        try:
            rows.append(_row(benchmark, {**source, **record} if isinstance(record, dict) else {}))
        except ReportedFileError as error:
            errors.append(f"row {index}: {error}")
    if errors:
        raise ReportedFileError(f"{path}: " + "; ".join(errors))
    created = updated = 0
    with transaction.atomic():
        for row in rows:
            key = {
                "benchmark": benchmark,
                "release_name": row.pop("release_name"),
                "model_name": row.pop("model_name"),
                "slice_key": slice_key(row["slices"]),
                "method": row.pop("method"),
            }
            _, made = ReportedResult.objects.update_or_create(**key, defaults=row)
            created, updated = created + made, updated + (not made)
    return created, updated


def publisher_runs(board: Board) -> list[LanguageModel]:
    """The publisher's runs scored on the board's release with the board's method: never
    ranked, listed beside the reported figures so a reader finds them."""
    if board.method is None:
        return []
    jobs = EvaluationJob.objects.finished_evaluations().filter(
        model__publisher_run=True, release=board.query.release
    )
    # The methods list is filtered here: SQLite's JSON fields have no `contains`.
    found = {job.model for job in jobs.select_related("model") if board.method.key in job.methods}
    return sorted(found, key=lambda model: (model.name, model.pk))


def publisher_run_dicts(board: Board) -> list[dict[str, Any]]:
    """`publisher_runs` as the board's API and JSON export give them."""
    return [
        {"model_id": model.pk, "name": model.public_name, "url": model.get_absolute_url()}
        for model in publisher_runs(board)
    ]


def link_site_model(benchmark: Benchmark, model_name: str, model: LanguageModel) -> int:
    """Set MODEL beside every reported result of MODEL_NAME on BENCHMARK (how many)."""
    linked = 0
    # Saved one by one, so the boards' cache hears of each (an update() sends no signal).
    for result in ReportedResult.objects.filter(benchmark=benchmark, model_name=model_name):
        result.site_model = model
        result.save(update_fields=["site_model"])
        linked += 1
    return linked


def _row(benchmark: Benchmark, record: dict[str, Any]) -> dict[str, Any]:
    required = [key for key in ("release", "model", "method", "values") if not record.get(key)]
    if required:
        raise ReportedFileError(f"missing {', '.join(required)}")
    slices = record.get("slices") or {}
    spreads = record.get("spreads") or {}
    found = reported_problems(
        benchmark.slug, str(record["method"]), record["values"], spreads, slices
    )
    if found:
        raise ReportedFileError("; ".join(found))
    site_model = None
    if record.get("site_model"):
        site_model = (
            LanguageModel.objects.filter(name=record["site_model"]).order_by("-created_at").first()
        )
        if site_model is None:
            raise ReportedFileError(f"no model {record['site_model']!r} on this site")
    n = record.get("n")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
        raise ReportedFileError(f"n: {n!r} is not a count")
    return {
        "release_name": str(record["release"])[:200],
        "model_name": str(record["model"])[:200],
        "method": str(record["method"]),
        "slices": {str(k): str(v) for k, v in slices.items()},
        "values": {str(k): float(v) for k, v in record["values"].items()},
        "spreads": {str(k): float(v) for k, v in spreads.items()},
        "spread_label": str(record.get("spread_label", ""))[:100],
        "n": n,
        "note": str(record.get("note", "")),
        "comparable": bool(record.get("comparable", True)),
        "site_model": site_model,
        "source_url": str(record.get("url", ""))[:200],
        **{column: str(record.get(key, ""))[:200] for key, column in SOURCE_FIELDS.items()},
    }


@dataclass(frozen=True)
class ReportedRow:
    """One reported result as a board shows it: its value of the board's metric and, where
    the site ran the same model on the same cell, the site's score and the difference."""

    result: ReportedResult
    value: float
    spread: float | None
    #: the reported result's other metrics: (label, value)
    others: list[tuple[str, float]]
    site_value: float | None = None
    site_low: float | None = None
    site_high: float | None = None
    #: why the site's number is not set beside it ("" when it is, or the site has none)
    not_compared: str = ""

    @property
    def difference(self) -> float | None:
        """The site's score minus the publisher's, where both measured the same items."""
        if self.site_value is None or not self.result.comparable:
            return None
        return self.site_value - self.value

    def as_dict(self) -> dict[str, Any]:
        return {
            **result_dict(self.result),
            "site_value": self.site_value,
            "difference": self.difference,
            "not_compared": self.not_compared,
        }


def result_dict(result: ReportedResult) -> dict[str, Any]:
    """A reported result for the API and exports, labelled as what it is."""
    return {
        "label": LABEL,
        "model": result.model_name,
        "release": result.release_name,
        "method": result.method,
        "slices": result.slices,
        "values": result.values,
        "spreads": result.spreads,
        "spread_label": result.spread_label,
        "n": result.n,
        "source": {
            "paper": result.source_paper,
            "table": result.source_table,
            "commit": result.source_commit,
            "url": result.source_url,
        },
        "note": result.note,
        "comparable": result.comparable,
        "site_model_id": result.site_model_id,
    }


def board_reported(board: Board) -> list[ReportedRow]:
    """The reported results of the board's method and cell (none ranked), each beside the
    site's score of the same model where the site ranks it on this view."""
    if board.method is None or board.metric is None:
        return []
    metric = board.metric
    metrics = {m.key: m for m in board.method.metrics}
    cell = dict(board.selected)
    column = declaration_column(board)
    if column:
        cell[column] = board.query.column
    site = {row.model_id: row for row in board.rows}
    shown = []
    results = (
        ReportedResult.objects.filter(
            benchmark__slug=board.query.release.benchmark.slug, method=board.method.key
        )
        .select_related("site_model")
        .order_by("release_name", "model_name")
    )
    for result in results:
        if result.slices != cell or metric.key not in result.values:
            continue
        row = site.get(result.site_model_id) if result.site_model_id else None
        interval = row.primary if row is not None else None
        reason = ""
        if result.site_model is not None and result.site_model.publisher_run:
            reason = "the publisher's own run, imported and never ranked: see its model page"
        elif result.site_model_id and interval is None:
            reason = (
                "the site has no ranked score of this model on this view (or the filters hide it)"
            )
        elif interval is not None and not result.comparable:
            # Side by side, but no difference: they measured different items.
            reason = f"not the same items ({result.release_name}): no difference is computed"
        shown.append(
            ReportedRow(
                result=result,
                value=result.values[metric.key],
                spread=result.spreads.get(metric.key),
                others=_others(result, metrics, metric),
                site_value=interval.value if interval else None,
                site_low=interval.low if interval else None,
                site_high=interval.high if interval else None,
                not_compared=reason,
            )
        )
    return shown


def declaration_column(board: Board) -> str:
    """The averaged dimension's key where the board shows one of its columns ("" else)."""
    averaged = declaration(board.query.release).averaged_dimension
    return averaged.key if averaged and board.query.column != OVERALL else ""


def _others(
    result: ReportedResult, metrics: dict[str, Metric], shown: Metric
) -> list[tuple[str, float]]:
    return [
        (metrics[key].label if key in metrics else key, value)
        for key, value in result.values.items()
        if key != shown.key
    ]
