"""Board tasks: thin wrappers over `warming`."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from leaderboard.boards import warming

log = logging.getLogger(__name__)


@shared_task(name="leaderboard.boards.tasks.warm_boards", ignore_result=True)
def warm_boards() -> dict[str, int]:
    return warming.warm()


def warm_soon() -> None:
    """Ask a worker to warm the boards; where the broker is down, the next visitor builds."""
    try:
        warm_boards.apply_async(queue=settings.BROKER_QUEUES["default"])
    except Exception as exc:  # the change itself is committed; only the warming is lost
        log.warning("could not queue board warming (%s); boards build on first request", exc)
