"""Stage checkpoints: each stage's output lives in RUN_DIR/<NN-stage>/ and appears atomically.

A stage writes into a hidden sibling (`.NN-stage.partial`), writes its `_done.json` marker
(counts, drop reasons, timing) last, and the directory is renamed into place. So a stage
directory either exists complete or not at all: a crash leaves only the partial directory,
which the next attempt discards. Work inside a stage that is expensive to redo (LLM calls) is
protected separately by the run's response cache, so a rerun of a crashed stage replays the
answers it already had.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DONE_FILE = "_done.json"


def stage_dir_name(number: int, name: str) -> str:
    return f"{number:02d}-{name}"


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


@dataclass
class StageOutput:
    """What a stage reports besides its files: sizes and every drop, by reason."""

    counts: dict[str, int] = field(default_factory=dict)
    dropped: Counter[str] = field(default_factory=Counter)

    def drop(self, reason: str, n: int = 1) -> None:
        self.dropped[reason] += n


def is_done(directory: Path) -> bool:
    return (directory / DONE_FILE).is_file()


def read_done(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = read_json(directory / DONE_FILE)
    return data


class StageWriter:
    """Context for one attempt at a stage: `path` is where the stage writes its files."""

    def __init__(self, final_dir: Path) -> None:
        self.final_dir = final_dir
        self.path = final_dir.with_name(f".{final_dir.name}.partial")
        self.started = time.monotonic()

    def __enter__(self) -> StageWriter:
        # A partial directory is what a crashed attempt left behind; it is never trusted.
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)
        return self

    def __exit__(self, *_: object) -> None:
        # Reached without a commit (an error, or a stage that must wait): nothing is kept.
        if self.path.exists():
            shutil.rmtree(self.path)

    def commit(self, stage: str, output: StageOutput) -> dict[str, Any]:
        marker = {
            "stage": stage,
            "counts": output.counts,
            "dropped": dict(sorted(output.dropped.items())),
            "seconds": round(time.monotonic() - self.started, 3),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        write_json(self.path / DONE_FILE, marker)
        if self.final_dir.exists():
            shutil.rmtree(self.final_dir)
        os.replace(self.path, self.final_dir)
        return marker
