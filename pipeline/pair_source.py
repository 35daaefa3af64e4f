"""DPO pairs from a run before Conflict Reduction (`evaluation.benchmarks.navab.alignment.source`, kind "pre-cr").

Pairs come from the generation stage's triples; held-out items from the run's release, so an
aligned model is scored on the same items whichever source it trained on. The run's layout
belongs here, so this side builds the source and the evaluation package never reads a run.
"""

from __future__ import annotations

from pathlib import Path

from evaluation.benchmarks.navab.alignment.source import PairSource, read_release
from evaluation.benchmarks.navab.records import TripleRecord
from pipeline.checkpoint import is_done, read_jsonl
from pipeline.release import RELEASE_SUBDIR
from pipeline.runner import stage_dir


def read_pre_cr_source(run_dir: Path) -> PairSource:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir} is not a directory")
    generation = stage_dir(run_dir, "generation")
    if not is_done(generation):
        raise ValueError(f"{run_dir}: the generation stage has not completed ({generation})")
    release = stage_dir(run_dir, "release")
    if not is_done(release):
        raise ValueError(
            f"{run_dir}: the release stage has not completed; held-out items come from the "
            "run's release, so run the pipeline through the release stage first"
        )
    triples = generation / "triples.jsonl"
    training = []
    for line_no, row in enumerate(read_jsonl(triples), start=1):
        try:
            training.append(TripleRecord.from_dict(row))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{triples}:{line_no}: {exc}") from exc
    version, evaluation = read_release(release / RELEASE_SUBDIR)
    return PairSource("pre-cr", run_dir, version, training, evaluation)
