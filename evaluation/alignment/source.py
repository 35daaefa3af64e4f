"""Where DPO pairs come from: a release (after Conflict Reduction) or a pipeline run before it.

- ``release``: a release directory (`evaluation.release` format). Pairs and held-out items both
  come from it.
- ``pre-cr``: a pipeline run directory. Pairs come from the generation stage's triples, i.e. the
  statements before Conflict Reduction removed the minority stances. Held-out items still come
  from the run's release (after Conflict Reduction), so an aligned model trained on either
  source is scored on the same items, and never on a statement the run itself dropped as
  contradicting the nation's dominant stance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evaluation.release import TRIPLES_FILE, TripleRecord, iter_triples, load_manifest

SourceKind = Literal["release", "pre-cr"]
SOURCES: tuple[SourceKind, ...] = ("release", "pre-cr")


@dataclass(frozen=True)
class PairSource:
    kind: SourceKind
    path: Path
    #: the version of the release the held-out items come from
    version: str
    #: pairs are built from these
    training: list[TripleRecord]
    #: held-out items are taken from these (always after Conflict Reduction)
    evaluation: list[TripleRecord]


def _read_release(release_dir: Path) -> tuple[str, list[TripleRecord]]:
    if not (release_dir / TRIPLES_FILE).is_file():
        raise ValueError(f"{release_dir} is not a release directory (no {TRIPLES_FILE})")
    version = str(load_manifest(release_dir).get("version") or release_dir.name)
    return version, list(iter_triples(release_dir))


def _read_pre_cr(run_dir: Path) -> PairSource:
    # Imported here: the run layout belongs to the pipeline, and only this source needs it.
    from pipeline.checkpoint import is_done, read_jsonl
    from pipeline.release import RELEASE_SUBDIR
    from pipeline.runner import stage_dir

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
    version, evaluation = _read_release(release / RELEASE_SUBDIR)
    return PairSource("pre-cr", run_dir, version, training, evaluation)


def read_source(kind: str, path: Path) -> PairSource:
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{path} is not a directory")
    if kind == "release":
        version, records = _read_release(path)
        return PairSource("release", path, version, records, records)
    if kind == "pre-cr":
        return _read_pre_cr(path)
    raise ValueError(f"unknown pair source {kind!r}; choose from {', '.join(SOURCES)}")
