"""Citable snapshots: a board view frozen whole, so a paper can cite what it showed that day.

Freezing builds the board afresh (never from the cache, which may be a moment old), without
the page's filters, search or sort (a snapshot is the whole view), and stores everything its
page and JSON show: each row with its rank, rank range, interval, columns and parts, the
release's fingerprint, and each ranked run's harness versions and reproduction commands from
its card. Pages and JSON read only the stored payload, so later runs change nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from leaderboard.boards.judge_summary import board_judging
from leaderboard.boards.models import BoardSnapshot
from leaderboard.boards.queries import Board, BoardQuery, build_board
from leaderboard.catalog.importer import release_fingerprint
from leaderboard.catalog.models import Benchmark, DatasetRelease
from leaderboard.evals.card import JobCard
from leaderboard.evals.models import EvaluationJob
from leaderboard.evals.slices import declaration

#: the card keys a snapshot keeps of each run: what to install and what to type
CARD_KEYS = ("versions", "command", "lm_eval_commands", "seed", "dtype", "device_name", "judge")
#: the note of a snapshot frozen by the schedule rather than by a person
SCHEDULED_NOTE = "Frozen on schedule (BOARD_SNAPSHOT_SCHEDULE)."


def freeze(query: BoardQuery, user: object, note: str = "") -> BoardSnapshot:
    """Freeze QUERY's view (filters, search and sort dropped) as a new snapshot."""
    board = build_board(whole_view(query))
    return _store(board, snapshot_payload(board), user, note)


def whole_view(query: BoardQuery) -> BoardQuery:
    return replace(
        query, model_types=(), precisions=(), sizes=(), family="", search="", sort="rank", order=""
    )


def content_fingerprint(payload: dict[str, Any]) -> str:
    """What a snapshot shows, less the moment it was frozen: equal for two freezes of a board
    nothing changed on."""
    content = {key: value for key, value in payload.items() if key != "frozen_at"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def freeze_default_boards(note: str = SCHEDULED_NOTE) -> list[BoardSnapshot]:
    """Freeze each benchmark's default board (its newest published release, first method, no
    slice chosen), as BOARD_SNAPSHOT_SCHEDULE asks; a board with no ranked model, or one that
    shows exactly what its latest snapshot shows, is skipped, so a quiet site's list is not
    flooded with copies."""
    frozen = []
    for benchmark in Benchmark.objects.all():
        release = DatasetRelease.objects.filter(benchmark=benchmark).current()
        if release is None:
            continue
        board = build_board(BoardQuery(release=release))
        if not board.ranked:
            continue
        payload = snapshot_payload(board)
        latest = (
            BoardSnapshot.objects.filter(release=release, payload__view=payload["view"])
            .only("payload")
            .first()
        )
        if latest is not None and content_fingerprint(latest.payload) == content_fingerprint(
            payload
        ):
            continue
        frozen.append(_store(board, payload, None, note))
    return frozen


def _store(board: Board, payload: dict[str, Any], user: object, note: str) -> BoardSnapshot:
    release = board.query.release
    benchmark = declaration(release)
    title = f"{benchmark.name} · {view_label(board)} · {payload['frozen_at'][:10]}"
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    for length in range(8, 65, 4):
        slug = f"{payload['frozen_at'][:10]}-{digest[:length]}"
        try:
            with transaction.atomic():
                return BoardSnapshot.objects.create(
                    slug=slug,
                    benchmark=release.benchmark,
                    release=release,
                    title=title[:200],
                    note=note,
                    payload=payload,
                    created_by=user if isinstance(user, User) else None,
                )
        except IntegrityError:
            continue  # the same view frozen twice in one instant: a longer slug
    raise RuntimeError("no free snapshot slug")  # 15 sha256 prefixes all taken: unreachable


def view_label(board: Board) -> str:
    """The view as the board's heading names it (NaVAB: "Overall · Quoted statements · MC")."""
    benchmark = declaration(board.query.release)
    parts = []
    for key, value in board.state().items():
        if key in ("method", "metric"):
            continue
        dimension = benchmark.slice_dimension(key)
        parts.append("Overall" if value == "overall" else dimension.label_of(value))
    if board.method is not None:
        parts.append(board.method.label)
    if board.metric is not None and board.method and board.metric.key != board.method.primary:
        parts.append(board.metric.label)
    return " · ".join(parts)


def snapshot_payload(board: Board) -> dict[str, Any]:
    """Everything a snapshot shows, as plain JSON."""
    assert board.method is not None and board.metric is not None
    release = board.query.release
    cards = {
        job.pk: JobCard(job.repro_card if isinstance(job.repro_card, dict) else {})
        for job in EvaluationJob.objects.filter(pk__in=[r.job_id for r in board.rows])
    }
    rows = []
    for row in board.rows:
        card = cards.get(row.job_id) or JobCard({})
        rows.append(
            {
                **row.as_dict(board.column_codes, board.part_keys, board.counted),
                "display_name": row.display_name,
                "release_sha256": card.release_sha256,
                "run": {key: card.raw[key] for key in CARD_KEYS if key in card.raw},
            }
        )
    return {
        "benchmark": release.benchmark.slug,
        "release": {
            "version": release.version,
            "fingerprint": release_fingerprint(release),
            "published_at": release.published_at.isoformat() if release.published_at else None,
            "is_demo": release.is_demo,
        },
        "view": board.state(),
        "view_label": view_label(board),
        "method": board.method.key,
        "method_label": board.method.label,
        "metric": board.metric.key,
        "metric_label": board.metric.label,
        "metric_kind": board.metric.kind.value,
        "higher_is_better": board.metric.higher_is_better,
        "track": board.method.track.value,
        "judges": board.judges,
        # How much the judged number depends on its judges, as the board said it then.
        "judging": judging.as_dict() if (judging := board_judging(board)) else None,
        "columns": [{"code": c.code, "name": c.name} for c in board.columns],
        "parts": [{"key": key, "label": label} for key, label in board.parts],
        "rank_resamples": board.rank_resamples,
        "rank_spread_note": board.rank_spread_note,
        "total_models": board.total,
        "frozen_at": timezone.now().isoformat(timespec="seconds"),
        "rows": rows,
    }
