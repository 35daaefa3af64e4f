"""Scores record how many clusters (users) their interval resampled: a slice of one user has
no interval and is never ranked. Scores stored before are counted from the job's per-item
results, the way the harness counts them (the items of the score's cell)."""

from collections import defaultdict
from typing import Any

from django.db import migrations, models


def _label(benchmark: Any, field: str, uid: str, slices: dict, data: dict) -> str:
    if field == "uid":
        return uid
    for dimension in benchmark.slices:
        if dimension.field == field:
            return str((slices or {}).get(dimension.key, ""))
    return str((data or {}).get(field, ""))


def count_clusters(apps: Any, schema_editor: Any) -> None:
    from evaluation.benchmarks import get_benchmark
    from evaluation.benchmarks.contract import IntervalMethod

    Score = apps.get_model("evals", "Score")
    SampleResult = apps.get_model("evals", "SampleResult")
    jobs = (
        Score.objects.order_by()
        .values_list("job_id", "job__release__benchmark__slug")
        .distinct()
    )
    for job_id, slug in jobs:
        try:
            benchmark = get_benchmark(slug)
        except KeyError:
            continue  # a benchmark no longer registered: its scores stay as they were
        fields = {
            (method.key, metric.key): metric.cluster_field
            for method in benchmark.methods
            for metric in method.metrics
            if metric.interval is IntervalMethod.CLUSTER and metric.cluster_field
        }
        if not fields:
            continue
        members: dict[str, list[tuple[dict, dict, str]]] = defaultdict(list)
        for method, slices, data, uid in SampleResult.objects.filter(job_id=job_id).values_list(
            "method", "triple__slices", "triple__data", "triple__uid"
        ):
            members[method].append((slices or {}, data or {}, uid))
        changed = []
        for score in Score.objects.filter(job_id=job_id):
            field = fields.get((score.method, score.metric))
            if field is None:
                continue
            labels = {
                _label(benchmark, field, uid, slices, data)
                for slices, data, uid in members[score.method]
                if all(str(slices.get(k, "")) == str(v) for k, v in score.slices.items())
            }
            if labels:
                score.clusters = len(labels)
                changed.append(score)
        Score.objects.bulk_update(changed, ["clusters"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("evals", "0009_job_disparity"),
    ]

    operations = [
        migrations.AddField(
            model_name="score",
            name="clusters",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Clusters (users) the interval resampled; null where items are independent.",
                null=True,
            ),
        ),
        migrations.RunPython(count_clusters, migrations.RunPython.noop),
    ]
