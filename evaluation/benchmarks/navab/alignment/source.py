"""Where DPO pairs come from: a release (after Conflict Reduction) or a pipeline run before it.

- ``release``: a release directory (`evaluation.release` format). Pairs and held-out items both
  come from it (`read_release_source`).
- ``pre-cr``: a pipeline run directory. Pairs come from the generation stage's triples, i.e. the
  statements before Conflict Reduction removed the minority stances. Held-out items still come
  from the run's release (after Conflict Reduction), so an aligned model trained on either
  source is scored on the same items, and never on a statement the run itself dropped as
  contradicting the nation's dominant stance. The run's layout is the pipeline's, so the
  pipeline builds that source (`pipeline.pair_source.read_pre_cr_source`): it depends on this
  package, never the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evaluation.benchmarks.navab.records import TRIPLES_FILE, TripleRecord, iter_triples
from evaluation.release import load_manifest

SourceKind = Literal["release", "pre-cr"]


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


def read_release(release_dir: Path) -> tuple[str, list[TripleRecord]]:
    """The release's version and records, or ValueError if RELEASE_DIR holds none."""
    if not (release_dir / TRIPLES_FILE).is_file():
        raise ValueError(f"{release_dir} is not a release directory (no {TRIPLES_FILE})")
    version = str(load_manifest(release_dir).get("version") or release_dir.name)
    return version, list(iter_triples(release_dir))


def read_release_source(path: Path) -> PairSource:
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{path} is not a directory")
    version, records = read_release(path)
    return PairSource("release", path, version, records, records)
