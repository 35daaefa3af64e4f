"""Compare 2-4 models on one release: per-cell deltas with a paired test, and disagreements."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import QuerySet

from leaderboard.benchmark.models import DatasetRelease, Mode, Nation
from leaderboard.boards.paired import PairedResult, paired_bootstrap
from leaderboard.boards.queries import latest_finished_job
from leaderboard.evals.models import LanguageModel, SampleResult

MAX_MODELS = 4
MAX_DISAGREEMENTS = 200


@dataclass
class CompareCell:
    nation: Nation
    mode: Mode
    method: str
    rates: list[float | None]
    tests: list[PairedResult | None]  # model i vs model 0 (None for model 0)

    @property
    def entries(self) -> list[tuple[float | None, PairedResult | None]]:
        """(rate, test against the first model) per model, for templates."""
        return list(zip(self.rates, self.tests, strict=True))


@dataclass
class Disagreement:
    triple_id: int
    uid: str
    nation: str
    mode: str
    topic: str
    question: str
    statement: str
    reverse_statement: str
    method: str
    chosen: list[str]
    correct: list[bool]

    @property
    def answers(self) -> list[tuple[str, bool]]:
        """(letter chosen, whether it held the statement S) per model."""
        return list(zip(self.chosen, self.correct, strict=True))


@dataclass
class Comparison:
    release: DatasetRelease
    models: list[LanguageModel]
    cells: list[CompareCell] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)
    disagreement_total: int = 0


def comparable_models(release: DatasetRelease, ids: list[int]) -> QuerySet[LanguageModel]:
    return LanguageModel.objects.filter(pk__in=ids).annotate(
        latest_job_id=latest_finished_job(release)
    )


def compare(release: DatasetRelease, ids: list[int], method: str | None = None) -> Comparison:
    found = {m.pk: m for m in comparable_models(release, ids)}
    models = [found[i] for i in ids if i in found and getattr(found[i], "latest_job_id", None)]
    result = Comparison(release=release, models=models)
    if len(models) < 2:
        return result
    job_ids = [m.latest_job_id for m in models]  # type: ignore[attr-defined]
    position = {job_id: i for i, job_id in enumerate(job_ids)}
    samples = SampleResult.objects.filter(job_id__in=job_ids)
    if method:
        samples = samples.filter(method=method)
    # outcome[(triple, method)][model index] = (chosen, correct)
    outcome: dict[tuple[int, str], dict[int, tuple[str, bool]]] = defaultdict(dict)
    for job_id, triple_id, meth, chosen, correct in samples.values_list(
        "job_id", "triple_id", "method", "chosen", "correct"
    ):
        outcome[(triple_id, meth)][position[job_id]] = (chosen, bool(correct))
    nation_ids = dict(Nation.objects.values_list("code", "pk"))
    mode_ids = dict(Mode.objects.values_list("code", "pk"))
    triples = {
        pk: {
            "uid": uid,
            "nation_id": nation_ids.get(slices.get("nation")),
            "mode_id": mode_ids.get(slices.get("mode")),
            "nation__code": slices.get("nation", ""),
            "mode__code": slices.get("mode", ""),
            **{k: data.get(k, "") for k in ("topic", "question", "statement", "reverse_statement")},
        }
        for pk, uid, slices, data in release.items.values_list("pk", "uid", "slices", "data")
    }
    by_cell: dict[tuple[int, int, str], list[list[bool]]] = defaultdict(list)
    disagreeing: list[tuple[int, str, dict[int, tuple[str, bool]]]] = []
    for (triple_id, meth), per_model in outcome.items():
        if len(per_model) != len(models) or triple_id not in triples:
            continue  # only items every model answered are paired
        t = triples[triple_id]
        by_cell[(t["nation_id"], t["mode_id"], meth)].append(
            [per_model[i][1] for i in range(len(models))]
        )
        if len({per_model[i][0] for i in range(len(models))}) > 1:
            disagreeing.append((triple_id, meth, per_model))
    nations = {n.pk: n for n in Nation.objects.all()}
    modes = {m.pk: m for m in Mode.objects.all()}
    for (nation_id, mode_id, meth), rows in sorted(
        by_cell.items(),
        key=lambda kv: (nations[kv[0][0]].sort_order, modes[kv[0][1]].sort_order, kv[0][2]),
    ):
        columns = list(zip(*rows, strict=True))
        rates: list[float | None] = [sum(c) / len(c) for c in columns]
        tests: list[PairedResult | None] = [None] + [
            paired_bootstrap(columns[0], columns[i], seed=nation_id * 97 + mode_id)
            for i in range(1, len(models))
        ]
        result.cells.append(CompareCell(nations[nation_id], modes[mode_id], meth, rates, tests))
    result.disagreement_total = len(disagreeing)
    disagreeing.sort(
        key=lambda item: (triples[item[0]]["nation__code"], triples[item[0]]["uid"], item[1])
    )
    for triple_id, meth, per_model in disagreeing[:MAX_DISAGREEMENTS]:
        t = triples[triple_id]
        result.disagreements.append(
            Disagreement(
                triple_id=triple_id,
                uid=t["uid"],
                nation=t["nation__code"],
                mode=t["mode__code"],
                topic=t["topic"],
                question=t["question"],
                statement=t["statement"],
                reverse_statement=t["reverse_statement"],
                method=meth,
                chosen=[per_model[i][0] for i in range(len(models))],
                correct=[per_model[i][1] for i in range(len(models))],
            )
        )
    return result
