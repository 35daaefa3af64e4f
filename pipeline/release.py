"""Stage 9: write the run's output as a draft DatasetRelease directory.

RUN_DIR/09-release/release/ holds triples.jsonl and manifest.json in the shared release format
(`evaluation.release`), so the site imports it like any other release and the harness can
evaluate it before anyone publishes it. The manifest records status "draft", where the data
came from (backend, models, config) and every stage's counts and drop reasons.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from evaluation.benchmarks.navab.records import TripleRecord, write_release
from pipeline.checkpoint import is_done, read_done, read_jsonl
from pipeline.context import StageContext

RELEASE_SUBDIR = "release"


def run(ctx: StageContext) -> None:
    config = ctx.config
    version = config.release_version or f"pipeline-{config.run_dir.name}"
    records = [
        TripleRecord(
            uid=row["uid"],
            nation=row["nation"],
            mode=row["mode"],
            question=row["question"],
            statement=row["statement"],
            reverse_statement=row["reverse_statement"],
            speaker=row["speaker"],
            topic=row["topic"],
            language=row["language"],
            news_excerpt=row["news_excerpt"],
            release=version,
        )
        for row in read_jsonl(ctx.input_dir("conflict") / "triples.jsonl")
    ]
    records.sort(key=lambda r: (r.nation, r.mode, r.uid))
    stages: dict[str, Any] = {
        name: {k: v for k, v in read_done(path).items() if k in ("counts", "dropped")}
        for name, path in ctx.stage_dirs.items()
        if is_done(path)
    }
    metadata = {
        "version": version,
        "status": "draft",
        "source": "pipeline",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "llm": {"backend": config.llm.backend, "model": config.llm.model},
        "embedding_model": config.embedding_model,
        "config": config.to_dict(),
        "stages": stages,
    }
    manifest = write_release(ctx.out / RELEASE_SUBDIR, records, metadata)
    ctx.output.counts.update(
        triples=manifest["total"],
        **{f"triples_{key.replace('/', '_')}": n for key, n in manifest["counts"].items()},
    )
    ctx.progress(len(records), len(records))
