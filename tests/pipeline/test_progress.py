"""`python -m pipeline run` progress: one clean bar per stage on a terminal, a plain line log
when its output is a pipe or a file."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from pipeline.progress import StageBars
from tests.pipeline.conftest import DEMO_SCRIPT, REPO

STAGES = ("ingest", "topics", "tags")
pytestmark = pytest.mark.slow  # each test runs the CLI with the real embedder


@pytest.fixture
def command(tmp_path: Path, small_corpus: list[Path]) -> list[str]:
    config = tmp_path / "run.json"
    config.write_text(
        json.dumps(
            {
                "run_dir": "run",
                "inputs": [str(p) for p in small_corpus],
                "topics": {"min_cluster_size": 3},
                "llm": {"backend": "scripted", "options": {"script": str(DEMO_SCRIPT)}},
            }
        )
    )
    return [sys.executable, "-m", "pipeline", "run", str(config), "--until", STAGES[-1]]


def run_in_terminal(command: list[str], columns: int = 100) -> str:
    """Everything the command writes to a terminal (a pty `columns` wide) on both streams."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen(command, cwd=REPO, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=300) == 0
    return b"".join(chunks).decode()


def screen_lines(output: str) -> list[str]:
    """The lines left on screen when output only rewrites its current line (\\r): what a
    terminal shows, as long as nothing moves the cursor up."""
    return [line.split("\r")[-1] for line in output.replace("\r\n", "\n").split("\n")]


def test_a_terminal_gets_one_bar_per_stage(command):
    output = run_in_terminal(command)
    assert "\x1b[" not in output  # no cursor movement between stacked bars, no codes at all
    bars = [line for line in screen_lines(output) if "|" in line and "item" in line]
    assert [line.split(":")[0].strip() for line in bars] == list(STAGES)
    assert all("100%" in line for line in bars)
    assert all(len(line) <= 100 for line in bars)


def test_a_pipe_gets_a_plain_line_log(command):
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr and "\x1b" not in result.stderr
    progress = re.compile(r"^(\w+) +(\d+)/(\d+) \((\d+)%\)$")
    lines = [progress.match(line) for line in result.stderr.splitlines()]
    assert all(lines), result.stderr  # nothing but progress lines
    stages = [m.group(1) for m in lines if m]
    assert list(dict.fromkeys(stages)) == list(STAGES)
    for stage in STAGES:
        last = [m for m in lines if m and m.group(1) == stage][-1]
        assert last.group(2) == last.group(3) and last.group(4) == "100"
    # The summary stays on stdout, one line per stage.
    assert [line.split()[0] for line in result.stdout.splitlines()] == list(STAGES)


def test_a_stage_with_nothing_to_do_ends_as_a_full_bar():
    # On some machines the clustering leaves no outliers, so "tags" reports 0 of 0.
    stream = io.StringIO()
    bars = StageBars(stream)
    bars("tags", 0, 0)
    bars.close()
    assert "100%" in screen_lines(stream.getvalue())[-2]
