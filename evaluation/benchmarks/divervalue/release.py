"""A DiverValue-Bench release directory: `items.jsonl` (one item per line, in the site's fields)
or, where that is absent, the published layout or a download of the site's (read and checked
by `read_published`).

OPA is published on the DVB-test users, so the items scored by default are the test split's
where the release has one; `splits=["all"]` scores every item.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.divervalue.reader import SPLITS
from evaluation.errors import SetupError
from evaluation.release import sha256_file

ITEMS_FILE: Final = "items.jsonl"
ALL: Final = "all"
DEFAULT_SPLIT: Final = "test"


def release_card(release_dir: Path, items_file: str = ITEMS_FILE) -> dict[str, str | None]:
    """What a run's card records of the release it scored: its directory and its items' digest
    (none where the release is in the published layout)."""
    path = Path(release_dir) / items_file
    return {"path": str(release_dir), "items_sha256": sha256_file(path) if path.exists() else None}


def write_items(release_dir: Path, items: Iterable[Mapping[str, Any]]) -> Path:
    release_dir = Path(release_dir)
    release_dir.mkdir(parents=True, exist_ok=True)
    path = release_dir / ITEMS_FILE
    with path.open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(dict(item), ensure_ascii=False, sort_keys=True) + "\n")
    return path


def load_items(release_dir: Path) -> list[dict[str, Any]]:
    return get_benchmark("divervalue").release_items(release_dir)


def select_items(
    release_dir: Path, *, splits: Sequence[str] | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """The items to score, sorted by uid: of `splits` (default: the test split where the
    release has one, else all items); `limit` keeps the first N."""
    if limit is not None and limit < 1:
        raise SetupError("limit must be a positive number of items")
    items = sorted(load_items(release_dir), key=lambda item: str(item["uid"]))
    held = {str(item.get("split") or "") for item in items}
    if not splits:
        splits = [DEFAULT_SPLIT] if DEFAULT_SPLIT in held else [ALL]
    unknown = sorted(set(splits) - {*SPLITS, ALL})
    if unknown:
        raise SetupError(
            f"unknown split(s) {', '.join(unknown)}; choose from {', '.join((*SPLITS, ALL))}"
        )
    if ALL not in splits:
        items = [item for item in items if item.get("split") in splits]
    if not items:
        raise SetupError(
            f"the release in {release_dir} has no items in split(s) {', '.join(splits)}"
        )
    return items[:limit] if limit else items
