"""NaVAB construction pipeline: news -> topics -> screening -> triples -> conflict reduction -> release.

Plain Python (no Django). A run lives in one directory; each stage checkpoints there, so a
Celery task can run one stage at a time (`run_stage`) and the CLI can run them all (`run_all`):

    from pipeline import load_config, run_stage, STAGES
    config = load_config("run.toml")
    for stage in STAGES:
        result = run_stage(config.run_dir, config, stage.name, progress=print)
        if result.status == "awaiting_approval":
            break
"""

from evaluation.benchmarks.navab.records import triple_uid
from pipeline.config import PipelineConfig, load_config
from pipeline.runner import (
    STAGE_NAMES,
    STAGES,
    Stage,
    StageResult,
    pending_approvals,
    read_proposal,
    run_all,
    run_stage,
    run_status,
    stage_dir,
)
from pipeline.screening import write_approvals

__all__ = [
    "STAGES",
    "STAGE_NAMES",
    "PipelineConfig",
    "Stage",
    "StageResult",
    "load_config",
    "pending_approvals",
    "read_proposal",
    "run_all",
    "run_stage",
    "run_status",
    "stage_dir",
    "triple_uid",
    "write_approvals",
]
