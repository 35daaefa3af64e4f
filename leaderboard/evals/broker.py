"""What Celery and the broker know about job deliveries: which workers run or hold which task
ids, and which task ids still wait on a queue.

The reaper and `claim` use this to notice a lost worker or a lost message within about a
minute instead of waiting out the heartbeat timeout or the re-send timer. Every question may
go unanswered (a transport without broadcasts, a broker outage): the answer is then None and
callers keep to the slow, safe timers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kombu.exceptions import ChannelError

from leaderboard.celery import app

# Worker main processes answer control messages from their event loop, within milliseconds.
INSPECT_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class WorkerView:
    """The workers that answered, and the task ids each of their pool processes runs."""

    nodes: frozenset[str]
    # task id -> {(node name, pool process id)} of every process running it
    running: dict[str, set[tuple[str, int]]] = field(default_factory=dict)
    # task ids prefetched by a worker, not started yet
    reserved: frozenset[str] = frozenset()

    def holds(self, task_id: str) -> bool:
        return task_id in self.running or task_id in self.reserved


def ask_workers(*, with_reserved: bool = False) -> WorkerView | None:
    """Ask every worker what it runs; None when none answered (so nothing can be concluded)."""
    inspect = app.control.inspect(timeout=INSPECT_TIMEOUT_S)
    try:
        active: dict[str, list[dict[str, Any]]] | None = inspect.active()
        if not active:
            return None
        reserved: dict[str, list[dict[str, Any]]] | None = (
            inspect.reserved() if with_reserved else {}
        )
    except Exception:  # broker unreachable: the same as no answer
        return None
    if with_reserved and reserved is None:
        return None  # the first answers may have been the last: nothing certain
    running: dict[str, set[tuple[str, int]]] = {}
    for node, requests in active.items():
        for request in requests:
            running.setdefault(request["id"], set()).add((node, int(request["worker_pid"] or 0)))
    held = frozenset(r["id"] for requests in (reserved or {}).values() for r in requests)
    return WorkerView(nodes=frozenset(active), running=running, reserved=held)


def queued_task_ids(queue: str) -> frozenset[str] | None:
    """Task ids waiting on QUEUE, or None when the broker cannot be read or browsed."""
    try:
        with app.connection_for_read() as conn:
            channel: Any = conn.default_channel
            if conn.transport.driver_type == "redis":
                return _redis_task_ids(channel, queue)
            # Other transports cannot be browsed, but an empty queue holds nothing.
            try:
                size = channel.queue_declare(queue=queue, passive=True).message_count
            except ChannelError:
                return frozenset()  # no such queue (yet): nothing waits on it
            return frozenset() if size == 0 else None
    except Exception:  # broker down
        return None


def _redis_task_ids(channel: Any, queue: str) -> frozenset[str]:
    # kombu keeps one list per priority step; a message's task id is its `id` header.
    ids: set[str] = set()
    for priority in channel.priority_steps:
        for raw in channel.client.lrange(channel._q_for_pri(queue, priority), 0, -1):
            try:
                ids.add(json.loads(raw)["headers"]["id"])
            except (ValueError, KeyError, TypeError):
                continue  # not a Celery task message: cannot be one of ours
    return frozenset(ids)
