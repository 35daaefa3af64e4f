"""How `python -m pipeline run` shows a run's progress: one bar per stage on a terminal, a
plain line log anywhere else (CI, a job log, a file), where bars would only leave control
codes behind."""

from __future__ import annotations

import os
from typing import Never, Protocol, TextIO

from tqdm import tqdm

#: The plain log writes a line each time a stage passes another tenth of its items.
LOG_STEPS = 10


class StageReporter(Protocol):
    """A `pipeline.context.Progress` callback that must be closed when the run ends."""

    def __call__(self, stage: str, done: int, total: int) -> None: ...

    def close(self) -> None: ...


class StageBars:
    """One tqdm bar at a time: a stage's bar is closed (and left on screen) before the next
    stage's opens, so every bar sits on line 0 and tqdm never moves the cursor between
    stacked bars."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.stage = ""
        self.bar: tqdm[Never] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage or self.bar is None:
            self.close()
            self.stage = stage
            self.bar = tqdm(
                total=max(total, 1),
                desc=f"{stage:<10}",
                unit="item",
                file=self.stream,
                dynamic_ncols=True,
            )
        self.bar.total = max(total, 1)
        # A stage with nothing to do (no outliers to tag) is complete, not stuck at 0/1.
        self.bar.n = done if total > 0 else self.bar.total
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class StageLog:
    """Plain lines, `stage  done/total (pct%)`: the first report of a stage, each further
    tenth, and its completion. Nothing else is written: no carriage returns, no escapes."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last: dict[str, tuple[int, int]] = {}  # stage -> (step logged, total)

    def __call__(self, stage: str, done: int, total: int) -> None:
        step = LOG_STEPS * done // total if total > 0 else LOG_STEPS
        previous = self.last.get(stage)
        # A grown total restarts the count of tenths: the stage found more work.
        if previous is not None and previous[1] == total and step <= previous[0]:
            return
        self.last[stage] = (step, total)
        percent = 100 * done // total if total > 0 else 100
        self.stream.write(f"{stage:<10} {done}/{total} ({percent}%)\n")
        self.stream.flush()

    def close(self) -> None:
        """Lines are complete as written: nothing to tidy."""


def stage_reporter(stream: TextIO) -> StageReporter:
    """Bars when `stream` is a terminal, the plain log otherwise."""
    silence_other_displays()
    return StageBars(stream) if stream.isatty() else StageLog(stream)


def silence_other_displays() -> None:
    """Make the stage reporter the run's only display on the terminal.

    The Hugging Face libraries' own bars (transformers' "Loading weights" as the embedder
    loads) would interleave with the stage bar or put control codes into the log; numba's
    coloured error messages (imported by UMAP) leave a colour reset on the terminal at exit.
    Both read their switch when first imported, which the stages do lazily, after this.
    """
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING", "1")
