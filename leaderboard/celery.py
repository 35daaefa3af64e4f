"""The Celery app; its queues (`default` for CPU work, `gpu` for model evaluation and training)
are named in settings.BROKER_QUEUES."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaderboard.settings")

app = Celery("leaderboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# How often the beat of `worker --beat` checks that its worker still runs.
BEAT_WATCH_S = 1.0


@signals.beat_embedded_init.connect
def end_beat_with_its_worker(**kwargs: Any) -> None:
    """`worker --beat` runs beat as a child process, which a `kill -9` of the worker leaves
    running (reparented); each restart would add one more beat, and the reaper would run once
    per beat. The child ends itself once its parent is gone: SIGTERM, so beat syncs its
    schedule file and exits as on any warm shutdown."""
    worker = os.getppid()

    def watch() -> None:
        while os.getppid() == worker:
            time.sleep(BEAT_WATCH_S)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="beat-watch", daemon=True).start()
