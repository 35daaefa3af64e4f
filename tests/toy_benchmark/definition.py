"""The toy benchmark's declaration and its published layout (one items.jsonl)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from evaluation.benchmarks.contract import (
    AlignmentDeclaration,
    AlignmentPlan,
    BenchmarkDefinition,
    Citation,
    IntervalMethod,
    ItemField,
    Method,
    Metric,
    MetricKind,
    SliceDimension,
    Track,
)
from evaluation.benchmarks.published import (
    Problem,
    PublishedFile,
    PublishedRead,
    PublishedRecord,
    check_manifest_checksums,
    check_strings,
    jsonl_lines,
    read_manifest,
)
from evaluation.release import MANIFEST_FILE

if TYPE_CHECKING:
    from evaluation.results import EvaluationResult

SLUG: Final = "toy"
#: what a process puts in EVAL_EXTRA_BENCHMARKS to find this benchmark
REGISTRATION: Final = f"{SLUG}=tests.toy_benchmark:BENCHMARK"
ITEMS_FILE: Final = "items.jsonl"
REQUIRED: Final = ("uid", "country", "topic", "prompt", "right", "wrong")

ACCURACY: Final = Metric(
    key="acc",
    label="Correct rate",
    kind=MetricKind.PROPORTION,
    interval=IntervalMethod.BINOMIAL,
    lower=0.0,
    upper=1.0,
)
MARGIN: Final = Metric(
    key="margin",
    label="Log-likelihood margin",
    kind=MetricKind.MARGIN,
    interval=IntervalMethod.BOOTSTRAP,
)
PICK: Final = Method(
    key="pick",
    label="Pick the right answer",
    track=Track.LOGLIKELIHOOD,
    metrics=(ACCURACY, MARGIN),
    primary="acc",
)


class ToyBenchmark(BenchmarkDefinition):
    slug = SLUG
    name = "Toy benchmark"
    description = "A benchmark of the tests: a prompt, its right and its wrong continuation."
    citation = Citation(
        title="A toy benchmark",
        authors="The tests",
        venue="tests/toy_benchmark",
        year=2026,
        url="https://example.org/toy",
        bibtex="@misc{toy, title = {A toy benchmark}}",
    )
    licence = "cc0-1.0"
    item_fields = (
        ItemField("uid", "UID", required=True, kind="short"),
        ItemField("country", "Country", required=True, kind="short", listed=True),
        ItemField("topic", "Topic", required=True, kind="short", listed=True),
        ItemField("prompt", "Prompt", required=True, searchable=True, listed=True),
        ItemField("right", "Right answer", required=True, searchable=True),
        ItemField("wrong", "Wrong answer", required=True, searchable=True),
    )
    slices = (
        # Only one country is labelled: a value the declaration does not know is shown as is.
        SliceDimension(
            "country", "Country", field="country", averaged=True, value_labels={"aa": "Avalon"}
        ),
        SliceDimension("topic", "Topic", field="topic"),
    )
    methods = (PICK,)
    items_file = ITEMS_FILE
    demo_dir = Path(__file__).resolve().parent / "demo"
    alignment = AlignmentDeclaration(
        targets=("country",),
        split_description="The country's items, the last share of them (by uid) held out.",
        dpo_defaults={"max_steps": 2, "batch_size": 2},
    )

    def read_published(self, path: Path) -> PublishedRead:
        path = Path(path)
        read = PublishedRead(layout=SLUG)
        items_path = path / ITEMS_FILE if path.is_dir() else path
        if path.is_dir():
            read.metadata = read_manifest(path / MANIFEST_FILE, read)
        if not items_path.is_file():
            read.problems.append(Problem(path.name, None, f"no {ITEMS_FILE}"))
            return read
        source = PublishedFile(name=items_path.name)
        read.files.append(source)
        for line_no, line in jsonl_lines(items_path, source):
            if not line.strip():
                continue
            source.records += 1
            try:
                item = json_object(line)
            except ValueError as exc:
                read.problems.append(Problem(source.name, line_no, str(exc), unit="line"))
                continue
            reasons = check_strings(item, REQUIRED, ())
            for key, reason in reasons:
                read.problems.append(Problem(source.name, line_no, reason, unit="line", key=key))
            if reasons:
                continue
            fields = {name: item[name] for name in REQUIRED}
            record = PublishedRecord(
                uid=item["uid"],
                fields=fields,
                slice=self.slice_of(fields),
                source_file=source.name,
                source_index=line_no - 1,
                unit="line",
            )
            read.add(source, record)
        check_manifest_checksums(read, MANIFEST_FILE)
        return read.dedupe("same uid", {name: name for name in REQUIRED})

    def export_tasks(
        self,
        release_dir: Path,
        out_dir: Path,
        *,
        methods: Sequence[str] | None = None,
        slices: Mapping[str, Sequence[str]] | None = None,
        limit: int | None = None,
        max_gen_toks: int = 128,
        answers: Path | None = None,
    ) -> list[str]:
        from tests.toy_benchmark.harness import export_tasks

        return export_tasks(self, release_dir, out_dir, slices)

    def evaluate(self, spec: Any, release_dir: Path, **options: Any) -> EvaluationResult:
        from tests.toy_benchmark.harness import evaluate

        return evaluate(self, spec, release_dir, **options)

    def plan_alignment(
        self,
        training: Sequence[Mapping[str, Any]],
        evaluation: Sequence[Mapping[str, Any]],
        target: Mapping[str, str],
        *,
        narrow: Mapping[str, Sequence[str]] | None = None,
        test_fraction: float = 0.2,
        seed: int = 0,
    ) -> AlignmentPlan:
        self.check_alignment_target(target)
        mine = sorted((i for i in training if i["country"] == target["country"]), key=_uid)
        held = max(1, round(len(mine) * test_fraction))
        if len(mine) <= held:
            raise ValueError(f"country {target['country']!r} has too few items to hold some out")
        train = tuple(mine[:-held])
        trained = {i["uid"] for i in train}
        return AlignmentPlan(
            train=train,
            exclude_uids=tuple(sorted(trained)),
            evaluate_uids=tuple(i["uid"] for i in evaluation if i["uid"] not in trained),
            counts={self.count_key({"country": target["country"]}): len(train)},
            summary=(("Trained items", str(len(train))), ("Held out", str(held))),
            split={"train": sorted(trained)},
        )

    def dpo_pairs(self, items: Sequence[Mapping[str, Any]]) -> list[Any]:
        return [ToyPair(item["prompt"], f" {item['right']}", f" {item['wrong']}") for item in items]


@dataclass(frozen=True)
class ToyPair:
    prompt: str
    chosen: str
    rejected: str


def _uid(item: Mapping[str, Any]) -> str:
    return str(item["uid"])


def json_object(line: bytes) -> dict[str, Any]:
    try:
        value = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a JSON line: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


BENCHMARK: Final = ToyBenchmark()
