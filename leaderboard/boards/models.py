"""The board version: one row, bumped whenever what boards show changes."""

from __future__ import annotations

from django.db import models


class BoardVersion(models.Model):
    """Cached boards carry this number in their keys, so bumping it retires them all.

    It lives in the database, not in the cache, because the processes that change results
    (Celery workers) and the ones that serve boards (web workers) need not share a cache:
    with the default per-process memory cache, a version kept there would never reach the
    web processes.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.PositiveBigIntegerField()

    def __str__(self) -> str:
        return f"boards v{self.version}"
