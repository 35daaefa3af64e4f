"""What evaluation jobs and pipeline runs share: progress, heartbeat and log tail, one
progress reporter, and NUL-safe text for what workers write.

Both are long work done by a worker that another process watches (the job page, the run page,
the reaper). Each kind declares its own statuses (a pipeline run can wait for approval, a job
can be retried); what a watcher reads is the same, and is written here once.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr
from typing import Any

from django.db import DatabaseError, models, transaction
from django.utils import timezone

LOG_TAIL_CHARS = 8000
#: The status every kind of work ends in when it succeeded.
FINISHED = "finished"
#: How often progress is written at most (seconds); the last report of a stage always is.
PROGRESS_EVERY_S = 1.0
NUL_SUBSTITUTE = "\ufffd"


def storable_text(text: str) -> str:
    # PostgreSQL's text cannot hold NUL, and log lines quote what models generated.
    return text.replace("\x00", NUL_SUBSTITUTE)


def storable_json(value: Any) -> Any:
    """`value` with NUL replaced in every string, keys included: PostgreSQL's text and jsonb
    cannot hold NUL (the raw output stays in the job's files)."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(k)): storable_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(v) for v in value]
    return value


class TrackedWork(models.Model):
    """Abstract: the fields a watcher reads while a worker does the work."""

    status: Any  # declared by each kind, with its own choices
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    log_tail = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def progress_percent(self) -> int:
        if not self.progress_total:
            return 100 if self.status == FINISHED else 0
        return min(100, int(100 * self.progress_done / self.progress_total))

    def add_log_line(self, line: str) -> None:
        """Append to the tail in memory (the caller saves, holding the row's lock)."""
        stamp = timezone.now().strftime("%Y-%m-%d %H:%M:%S")
        self.log_tail = (self.log_tail + f"[{stamp}] {storable_text(line).rstrip()}\n")[
            -LOG_TAIL_CHARS:
        ]

    @classmethod
    def append_log(cls, pk: int, *lines: str) -> None:
        with transaction.atomic():
            work = cls._default_manager.select_for_update().get(pk=pk)
            for line in lines:
                work.add_log_line(line)
            work.save(update_fields=["log_tail"])


logger = logging.getLogger(__name__)
#: The loggers whose INFO lines a job's log tail shows, whatever the worker's --loglevel.
WORK_LOGGERS = ("lm_eval", "evaluation", "pipeline", __name__)


class LogTail(logging.Handler):
    """The log records of one thread (the worker's, running the work) appended to the work's
    log tail at most once a second, so its page shows what the worker is doing meanwhile."""

    #: the handler of the work running in each thread, flushed by its progress reports
    active: dict[int, LogTail] = {}

    def __init__(self, model: type[TrackedWork], pk: int) -> None:
        super().__init__(logging.INFO)
        self.model, self.pk = model, pk
        self.thread = threading.get_ident()
        self.lines: list[str] = []
        self.last_flush = 0.0
        self.writing = False
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread or self.writing:
            return  # another thread's, or the database's own records while writing
        self.lines.append(self.format(record))
        if time.monotonic() - self.last_flush >= PROGRESS_EVERY_S:
            self.flush()

    def flush(self) -> None:
        if not self.lines or self.writing:
            return
        lines, self.lines = self.lines, []
        self.writing, self.last_flush = True, time.monotonic()
        try:
            self.model.append_log(self.pk, *lines)
        except DatabaseError:
            pass  # the work's own error handling reports a broken database; a lost line is not
        finally:
            self.writing = False


# What a tqdm bar writes: a line redrawn after "\r" on every refresh ("42%|####  | 21/50").
_PROGRESS_BAR = re.compile(r"\r|\d+%\|")


class WithoutProgressBars(io.TextIOBase):
    """stderr while work runs in a worker: progress bars are dropped, anything else passes.

    lm-eval draws tqdm bars (some with `disable=False` passed explicitly, so tqdm's own
    switches cannot turn them off), and Celery logs what a task writes to stderr as one
    WARNING line per refresh: a thousand lines on the demo's console for one small job. The
    work's progress is on its page already."""

    def __init__(self, target: Any) -> None:
        super().__init__()
        self.target = target

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not _PROGRESS_BAR.search(text):
            self.target.write(text)
        return len(text)

    def flush(self) -> None:
        self.target.flush()


@contextmanager
def log_tail(model: type[TrackedWork], pk: int) -> Iterator[None]:
    """While the block runs in this thread, its INFO log lines go to the work's log tail and
    its progress bars nowhere."""
    handler = LogTail(model, pk)
    lowered = [
        (log, log.level)
        for log in map(logging.getLogger, WORK_LOGGERS)
        if not log.isEnabledFor(logging.INFO)
    ]
    for log, _ in lowered:
        log.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    LogTail.active[handler.thread] = handler
    try:
        with redirect_stderr(WithoutProgressBars(sys.stderr)):
            yield
    finally:
        LogTail.active.pop(handler.thread, None)
        root.removeHandler(handler)
        for log, level in lowered:
            log.setLevel(level)
        handler.flush()


class ProgressReporter:
    """A library's progress callback `(stage, done, total)` for one piece of tracked work.

    Writes progress and heartbeat to the rows of CURRENT (the work, filtered to "still this
    delivery's": a cancel or a takeover makes it match nothing) at most once a second and at
    the end of each stage, and raises STOPPED() once nothing matches or CANCELLED is set, so
    the library stops where it is.
    """

    def __init__(
        self,
        current: models.QuerySet[Any],
        stopped: Callable[[], Exception],
        *,
        stage_field: str | None = None,
        cancelled: threading.Event | None = None,
    ) -> None:
        self.current, self.stopped = current, stopped
        self.stage_field, self.cancelled = stage_field, cancelled
        self.last_report = 0.0
        self.last_stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.cancelled is not None and self.cancelled.is_set():
            raise self.stopped()
        if stage != self.last_stage:
            self.last_stage = stage
            logger.info("%s (%d / %d)", stage, done, total)
        now = time.monotonic()
        if now - self.last_report < PROGRESS_EVERY_S and done < total:
            return
        self.last_report = now
        # Lines logged just before a long stretch without any (lm-eval's "Running
        # loglikelihood requests") would wait for the next line: the page gets them now.
        tail = LogTail.active.get(threading.get_ident())
        if tail is not None:
            tail.flush()
        values: dict[str, Any] = {
            "progress_done": done,
            "progress_total": total,
            "heartbeat_at": timezone.now(),
        }
        if self.stage_field is not None:
            values[self.stage_field] = stage[:64]
        if not self.current.update(**values):
            raise self.stopped()
