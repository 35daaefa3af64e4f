"""Scores and per-example results become generic over slices, metrics and sub-metrics.

Score: the nation/mode foreign keys become `slices` (+ its canonical `slice_key`), the metric is
NaVAB's correct rate ("acc"), and the position rates become the declared sub-metrics in `parts`
with each half's n counted from the job's per-example results (None where a job kept none).
SampleResult: `statement_is_a` becomes parts {"half": "pos" | "neg"}, the log-likelihoods and
the free answer move into `details`, and `value` is the outcome as a number.
"""

from collections import Counter
from typing import Any

from django.db import migrations, models
from django.db.models import Count

from evaluation.results import slice_key

BATCH = 5000


def _half(statement_is_a: bool) -> str:
    return "pos" if statement_is_a else "neg"


def scores_forward(apps: Any, schema_editor: Any) -> None:
    Score = apps.get_model("evals", "Score")
    SampleResult = apps.get_model("evals", "SampleResult")
    halves: Counter[tuple[int, str, int, int, str]] = Counter()
    grouped = (
        SampleResult.objects.values(
            "job_id", "method", "triple__nation_id", "triple__mode_id", "statement_is_a"
        )
        .annotate(n=Count("id"))
        .order_by()
    )
    jobs_with_samples = set()
    for g in grouped:
        key = (g["job_id"], g["method"], g["triple__nation_id"], g["triple__mode_id"])
        halves[(*key, _half(g["statement_is_a"]))] = g["n"]
        jobs_with_samples.add(g["job_id"])
    batch = []
    for score in Score.objects.select_related("nation", "mode").iterator(chunk_size=BATCH):
        cell = {"nation": score.nation.code, "mode": score.mode.code}
        key = (score.job_id, score.method, score.nation_id, score.mode_id)
        counted = score.job_id in jobs_with_samples
        score.slices = cell
        score.slice_key = slice_key(cell)
        score.metric = "acc"
        score.parts = {
            half: {"value": rate, "n": halves[(*key, half)] if counted else None}
            for half, rate in (("pos", score.pos_rate), ("neg", score.neg_rate))
        }
        batch.append(score)
        if len(batch) >= BATCH:
            Score.objects.bulk_update(batch, ["slices", "slice_key", "metric", "parts"])
            batch = []
    Score.objects.bulk_update(batch, ["slices", "slice_key", "metric", "parts"])


def samples_forward(apps: Any, schema_editor: Any) -> None:
    SampleResult = apps.get_model("evals", "SampleResult")
    batch = []
    for sample in SampleResult.objects.only(
        "id", "statement_is_a", "correct", "loglikelihoods", "answer"
    ).iterator(chunk_size=BATCH):
        sample.value = 1.0 if sample.correct else 0.0
        sample.parts = {"half": _half(sample.statement_is_a)}
        sample.details = {"loglikelihoods": sample.loglikelihoods}
        if sample.answer:
            sample.details["answer"] = sample.answer
        batch.append(sample)
        if len(batch) >= BATCH:
            SampleResult.objects.bulk_update(batch, ["value", "parts", "details"])
            batch = []
    SampleResult.objects.bulk_update(batch, ["value", "parts", "details"])


class Migration(migrations.Migration):
    dependencies = [
        ("evals", "0005_alignment_job_proxy"),
        ("benchmark", "0004_benchmarks_own_releases"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="score", name="unique_score_cell"),
        migrations.AddField(
            model_name="score",
            name="slices",
            field=models.JSONField(default=dict, help_text="The cell: dimension -> value."),
        ),
        migrations.AddField(
            model_name="score",
            name="slice_key",
            field=models.CharField(default="", max_length=255),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="score",
            name="metric",
            field=models.CharField(default="acc", max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="score",
            name="parts",
            field=models.JSONField(
                default=dict,
                help_text='Declared sub-metrics: key -> {"value": float | null, "n": int}.',
            ),
        ),
        migrations.AddField(
            model_name="sampleresult",
            name="value",
            field=models.FloatField(
                default=0.0, help_text="The per-item value the method's metric averages."
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="sampleresult",
            name="parts",
            field=models.JSONField(
                default=dict, help_text='Sub-metric subsets, e.g. {"half": "pos"}.'
            ),
        ),
        migrations.AddField(
            model_name="sampleresult",
            name="details",
            field=models.JSONField(
                default=dict,
                help_text="What produced the outcome: log-likelihoods, answer, judge output.",
            ),
        ),
        migrations.RunPython(scores_forward, migrations.RunPython.noop),
        migrations.RunPython(samples_forward, migrations.RunPython.noop),
        migrations.AlterModelOptions(name="score", options={"ordering": ["id"]}),
        migrations.RemoveField(model_name="score", name="nation"),
        migrations.RemoveField(model_name="score", name="mode"),
        migrations.RemoveField(model_name="score", name="pos_rate"),
        migrations.RemoveField(model_name="score", name="neg_rate"),
        migrations.RemoveField(model_name="sampleresult", name="statement_is_a"),
        migrations.RemoveField(model_name="sampleresult", name="loglikelihoods"),
        migrations.RemoveField(model_name="sampleresult", name="answer"),
        migrations.AlterField(model_name="score", name="value", field=models.FloatField()),
        migrations.AlterField(
            model_name="score", name="method", field=models.CharField(max_length=32)
        ),
        migrations.AlterField(
            model_name="sampleresult", name="method", field=models.CharField(max_length=32)
        ),
        migrations.AlterField(
            model_name="sampleresult",
            name="chosen",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="sampleresult",
            name="correct",
            field=models.BooleanField(
                help_text="None where the metric has no right answer.", null=True
            ),
        ),
        migrations.AddConstraint(
            model_name="score",
            constraint=models.UniqueConstraint(
                fields=("job", "slice_key", "method", "metric"), name="unique_score_cell"
            ),
        ),
    ]
