"""Each job's per-item values packed per (method, metric) for rank spreads
(`leaderboard.evals.item_values`), filled for the jobs stored before from their results'
rows (value, in stored order) and their details files (each item's outcome)."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def fill(apps: Any, schema_editor: Any) -> None:
    from leaderboard.evals import item_values, sample_details

    SampleResult = apps.get_model("evals", "SampleResult")
    JobItemValues = apps.get_model("evals", "JobItemValues")
    db = schema_editor.connection.alias
    jobs = SampleResult.objects.using(db).values_list("job_id", flat=True).order_by("job_id")
    for job_id in list(jobs.distinct()):
        long = sample_details.read_job(job_id)
        rows = SampleResult.objects.using(db).filter(job_id=job_id).order_by("item_id", "method")
        packed = item_values.pack(
            (item, method, value, long.get((item, method), ({}, {}))[1])
            for item, method, value in rows.values_list("item_id", "method", "value").iterator()
        )
        JobItemValues.objects.using(db).bulk_create(
            JobItemValues(job_id=job_id, method=method, metric=metric, items=ids, values=values)
            for (method, metric), (ids, values) in packed.items()
        )


class Migration(migrations.Migration):
    dependencies = [
        ("evals", "0018_sample_results_keyed_by_job_item_method"),
    ]

    operations = [
        migrations.CreateModel(
            name="JobItemValues",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("method", models.CharField(max_length=32)),
                (
                    "metric",
                    models.CharField(
                        blank=True, help_text='"": the results\' own value.', max_length=32
                    ),
                ),
                (
                    "items",
                    models.BinaryField(help_text="Item ids in stored order: little-endian int64 differences from the id before."),
                ),
                (
                    "values",
                    models.BinaryField(
                        help_text="Little-endian float64 beside each item; NaN: none."
                    ),
                ),
                (
                    "job",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="item_values",
                        to="evals.evaluationjob",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("job", "method", "metric"), name="unique_job_item_values"
                    )
                ],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
