"""The stage list and the functions that run it: one stage (for a Celery task) or all (the CLI).

Stages run in order; each reads the outputs of earlier stages from RUN_DIR and writes its own
checkpoint (see checkpoint.py). A completed stage is skipped when run again, so a crashed or
interrupted run resumes where it stopped. `Stage.needs_llm(config)` tells a scheduler which
stages need the LLM (route them to the `gpu` queue) and which are CPU work (`default`).

The `approval` stage is a gate: it returns status "awaiting_approval" until the operator's
decisions cover every proposed topic; running it again afterwards lets the run continue.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline import conflict, extraction, generation, ingest, release, screening, tags, topics
from pipeline.checkpoint import (
    StageWriter,
    is_done,
    read_done,
    read_json,
    stage_dir_name,
    write_json,
)
from pipeline.config import PipelineConfig
from pipeline.context import Progress, StageContext, no_progress
from pipeline.embed import Embedder
from pipeline.llm.base import LLMBackend
from pipeline.screening import AwaitingApproval, read_approvals

CONFIG_FILE = "config.json"
Status = Literal["done", "skipped", "awaiting_approval"]


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[StageContext], None]
    uses_llm: bool | Callable[[PipelineConfig], bool]
    description: str

    def needs_llm(self, config: PipelineConfig) -> bool:
        return self.uses_llm(config) if callable(self.uses_llm) else self.uses_llm

    def queue(self, config: PipelineConfig) -> str:
        return "gpu" if self.needs_llm(config) else "default"


STAGES: tuple[Stage, ...] = (
    Stage("ingest", ingest.run, False, "read and validate news corpora"),
    Stage("topics", topics.run, False, "embed, cluster and describe topics per nation"),
    Stage("tags", tags.run, True, "LLM instruction tags for outlier documents"),
    Stage(
        "screening",
        screening.run,
        lambda config: config.screening.method == "llm",
        "propose value-sensitive topics",
    ),
    Stage("approval", screening.run_approval, False, "wait for the operator's topic approvals"),
    Stage("extraction", extraction.run, True, "extract, screen and attribute statements"),
    Stage("generation", generation.run, True, "generate <Q, S, RS> triples"),
    Stage("conflict", conflict.run, False, "resolve contradictory stances"),
    Stage("release", release.run, False, "write the draft release"),
)
STAGE_NAMES = tuple(s.name for s in STAGES)


class StageOrderError(RuntimeError):
    """A stage was asked to run before the stages it reads from have completed."""


class ConfigMismatch(RuntimeError):
    """RUN_DIR was started with another config; resuming with this one would mix runs."""


@dataclass
class StageResult:
    stage: str
    status: Status
    counts: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    message: str = ""
    #: LLM prompts actually sent to the backend by this attempt (cache hits excluded).
    llm_calls: int = 0


def get_stage(name: str) -> Stage:
    for stage in STAGES:
        if stage.name == name:
            return stage
    raise ValueError(f"unknown stage {name!r}; stages: {', '.join(STAGE_NAMES)}")


def stage_dir(run_dir: Path, name: str) -> Path:
    return Path(run_dir) / stage_dir_name(STAGE_NAMES.index(name) + 1, name)


def record_config(config: PipelineConfig, replace: bool = False) -> None:
    """Store the config in RUN_DIR on first use; refuse a different one unless `replace`."""
    path = config.run_dir / CONFIG_FILE
    data = config.to_dict()
    if path.exists() and not replace and read_json(path) != data:
        raise ConfigMismatch(
            f"{config.run_dir} was started with a different config ({path}); "
            "use a new run directory, or rerun from a stage (--from) to apply the change"
        )
    config.run_dir.mkdir(parents=True, exist_ok=True)
    write_json(path, data)


def invalidate_from(run_dir: Path, name: str) -> None:
    """Delete the checkpoints of `name` and every later stage (the LLM cache is kept)."""
    for later in STAGE_NAMES[STAGE_NAMES.index(name) :]:
        directory = stage_dir(run_dir, later)
        if directory.exists():
            shutil.rmtree(directory)


def run_stage(
    run_dir: Path,
    config: PipelineConfig,
    stage_name: str,
    progress: Progress = no_progress,
    *,
    backend: LLMBackend | None = None,
    embedder: Embedder | None = None,
) -> StageResult:
    """Run one stage in `run_dir` (skipped if already complete) and return its result.

    `backend` / `embedder` let a long-lived worker pass models it already loaded.
    """
    run_dir = Path(run_dir)
    config = dataclasses.replace(config, run_dir=run_dir)
    stage = get_stage(stage_name)
    record_config(config)
    final_dir = stage_dir(run_dir, stage.name)
    if is_done(final_dir):
        marker = read_done(final_dir)
        return StageResult(stage.name, "skipped", marker["counts"], marker["dropped"])
    earlier = STAGE_NAMES[: STAGE_NAMES.index(stage.name)]
    missing = [name for name in earlier if not is_done(stage_dir(run_dir, name))]
    if missing:
        raise StageOrderError(f"stage {stage.name!r} needs {', '.join(missing)} to complete first")
    with StageWriter(final_dir) as writer:
        ctx = StageContext(
            config=config,
            stage=stage.name,
            out=writer.path,
            stage_dirs={name: stage_dir(run_dir, name) for name in earlier},
            report=progress,
            backend=backend,
            embedder_override=embedder,
        )
        try:
            stage.run(ctx)
        except AwaitingApproval as exc:
            return StageResult(stage.name, "awaiting_approval", message=str(exc))
        finally:
            ctx.close()
        marker = writer.commit(stage.name, ctx.output)
    return StageResult(
        stage.name, "done", marker["counts"], marker["dropped"], llm_calls=ctx.llm_calls
    )


def run_all(
    config: PipelineConfig,
    progress: Progress = no_progress,
    *,
    until: str | None = None,
    from_stage: str | None = None,
    backend: LLMBackend | None = None,
    embedder: Embedder | None = None,
) -> list[StageResult]:
    """Run stages in order, resuming after the last complete one; stops at an approval gate.

    `from_stage` discards that stage's checkpoint and every later one first, so they rerun
    (with the current config); `until` stops after the named stage.
    """
    if from_stage is not None:
        get_stage(from_stage)
        invalidate_from(config.run_dir, from_stage)
        record_config(config, replace=True)
    last = STAGE_NAMES.index(get_stage(until).name) if until else len(STAGES) - 1
    results = []
    for stage in STAGES[: last + 1]:
        result = run_stage(
            config.run_dir, config, stage.name, progress, backend=backend, embedder=embedder
        )
        results.append(result)
        if result.status == "awaiting_approval":
            break
    return results


def run_status(run_dir: Path) -> list[dict[str, Any]]:
    """Per stage: state (done | partial | awaiting_approval | pending), queue, counts, drops."""
    run_dir = Path(run_dir)
    config_file = run_dir / CONFIG_FILE
    config = PipelineConfig.from_dict(read_json(config_file)) if config_file.exists() else None
    rows = []
    for stage in STAGES:
        directory = stage_dir(run_dir, stage.name)
        row: dict[str, Any] = {"stage": stage.name, "state": "pending"}
        if config is not None:
            row["queue"] = stage.queue(config)
        if is_done(directory):
            marker = read_done(directory)
            row.update(state="done", counts=marker["counts"], dropped=marker["dropped"])
        elif directory.with_name(f".{directory.name}.partial").exists():
            # A crashed or running attempt; the next run discards it and starts the stage again.
            row["state"] = "partial"
        elif stage.name == "approval" and pending_approvals(run_dir):
            row["state"] = "awaiting_approval"
        rows.append(row)
    return rows


def read_proposal(run_dir: Path) -> dict[str, Any]:
    """The screening proposal, for the operator's review (empty until screening is done)."""
    path = stage_dir(run_dir, "screening") / "proposal.json"
    return read_json(path) if path.exists() else {}


def approvals_path(run_dir: Path) -> Path:
    """Where the run reads the operator's decisions (the config's, else RUN_DIR/approvals.json)."""
    config_file = Path(run_dir) / CONFIG_FILE
    if config_file.exists():
        approvals: Path = PipelineConfig.from_dict(read_json(config_file)).approvals_file
        return approvals
    return Path(run_dir) / "approvals.json"


def pending_approvals(run_dir: Path) -> list[str]:
    """Proposed topics that still lack a decision."""
    decisions = read_approvals(approvals_path(run_dir))
    return sorted(t for t in read_proposal(run_dir).get("topics", {}) if t not in decisions)
