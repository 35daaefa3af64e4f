"""Synthetic releases for the benchmark scripts: NaVAB-shaped triples and DiverValue-Bench-shaped
items, as many as asked, written in the release format the harnesses read.

NaVAB triples are spread over every nation x scored mode; DiverValue-Bench items reuse the demo
release's questions, answers and profiles (real text lengths), about 17 items per user as in
the published data (23,763 items, 1,396 users), all in the test split that OPA scores.
"""

from __future__ import annotations

from pathlib import Path

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.divervalue.release import load_items, write_items
from evaluation.benchmarks.navab import MODES, NATIONS
from evaluation.benchmarks.navab.records import TripleRecord, write_release

ITEMS_PER_USER = 17
PROFILE_FIELDS = (
    "age",
    "gender",
    "employment_status",
    "education",
    "marital_status",
    "birth_country",
    "region",
    "english_proficiency",
)


def navab_release(directory: Path, n_items: int) -> Path:
    cells = [(n.code, m.code) for n in NATIONS for m in MODES if m.scored]
    records = []
    for i in range(n_items):
        nation, mode = cells[i % len(cells)]
        records.append(
            TripleRecord(
                uid=f"{nation}-{mode}-{i:06d}",
                nation=nation,
                mode=mode,
                question=f"Should the government of {nation} adopt policy number {i} on "
                f"{mode} matters of public value?",
                statement=f"The government of {nation} supports policy number {i}.",
                reverse_statement=f"The government of {nation} opposes policy number {i}.",
            )
        )
    write_release(directory, records, {"version": f"synthetic-{n_items}"})
    return directory


def divervalue_release(directory: Path, n_items: int) -> Path:
    demo = sorted(load_items(get_benchmark("divervalue").demo_dir), key=lambda d: str(d["uid"]))
    items = []
    for i in range(n_items):
        user = i // ITEMS_PER_USER
        content, profile = demo[i % len(demo)], demo[user % len(demo)]
        items.append(
            {
                **content,
                **{key: profile[key] for key in PROFILE_FIELDS},
                "uid": f"syn-{i:06d}",
                "user_id": f"syn-user{user:05d}",
                "split": "test",
            }
        )
    write_items(directory, items)
    return directory
