"""Per-example results keep only their short columns in the database; each job's `parts` and
`details` move to its file under MEDIA_ROOT (`leaderboard.evals.sample_details`).

The rows go to a new table rather than losing two columns in place: PostgreSQL keeps a dropped
column in every later row's null bitmap and never gives its space back without a rewrite, and
the new table lays the 8-byte columns first (no padding). Every row keeps its id, job, item,
method, value, correct and chosen; its parts and details are written to the job's file before
the old table is dropped. The job's own index and the (job, method, correct) index go: the
unique (job, item, method) constraint starts with the job and serves every per-job query.
"""

from typing import Any

import django.db.models.deletion
from django.core.management.color import no_style
from django.db import migrations, models

BATCH = 5000


def move_forward(apps: Any, schema_editor: Any) -> None:
    from leaderboard.evals import sample_details

    Old = apps.get_model("evals", "SampleResult")
    New = apps.get_model("evals", "SlimSampleResult")
    db = schema_editor.connection.alias
    job_ids = Old.objects.using(db).values_list("job_id", flat=True).distinct().order_by("job_id")
    for job_id in list(job_ids):
        long: list[tuple[int, str, Any, Any]] = []
        rows = []
        for old in Old.objects.using(db).filter(job_id=job_id).order_by("id").iterator():
            long.append((old.item_id, old.method, old.parts or {}, old.details or {}))
            rows.append(
                New(
                    id=old.id,
                    job_id=old.job_id,
                    item_id=old.item_id,
                    value=old.value,
                    correct=old.correct,
                    method=old.method,
                    chosen=old.chosen,
                )
            )
        sample_details.write_job(job_id, long)
        New.objects.using(db).bulk_create(rows, batch_size=BATCH)
    _reset_ids(schema_editor, New)


def move_back(apps: Any, schema_editor: Any) -> None:
    from leaderboard.evals import sample_details

    Old = apps.get_model("evals", "SampleResult")
    New = apps.get_model("evals", "SlimSampleResult")
    db = schema_editor.connection.alias
    job_ids = New.objects.using(db).values_list("job_id", flat=True).distinct().order_by("job_id")
    for job_id in list(job_ids):
        long = sample_details.read_job(job_id)
        rows = []
        for new in New.objects.using(db).filter(job_id=job_id).order_by("id").iterator():
            parts, details = long.get((new.item_id, new.method), ({}, {}))
            rows.append(
                Old(
                    id=new.id,
                    job_id=new.job_id,
                    item_id=new.item_id,
                    method=new.method,
                    value=new.value,
                    correct=new.correct,
                    chosen=new.chosen,
                    parts=parts,
                    details=details,
                )
            )
        Old.objects.using(db).bulk_create(rows, batch_size=BATCH)
    _reset_ids(schema_editor, Old)


def _reset_ids(schema_editor: Any, model: Any) -> None:
    """Rows were copied with their ids: the table's id sequence continues after them."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("benchmark", "0005_items_generic_over_slices"),
        ("evals", "0015_language_model_generation_settings"),
    ]

    operations = [
        migrations.CreateModel(
            name="SlimSampleResult",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "job",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="evals.evaluationjob",
                    ),
                ),
                (
                    "item",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="benchmark.item",
                    ),
                ),
                (
                    "value",
                    models.FloatField(
                        help_text="The per-item value the method's metric averages."
                    ),
                ),
                (
                    "correct",
                    models.BooleanField(
                        help_text="None where the metric has no right answer.", null=True
                    ),
                ),
                ("method", models.CharField(max_length=32)),
                ("chosen", models.CharField(blank=True, max_length=64)),
            ],
            options={
                "ordering": ["id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("job", "item", "method"), name="unique_sample_result"
                    )
                ],
            },
        ),
        migrations.RunPython(move_forward, move_back),
        migrations.DeleteModel(name="SampleResult"),
        migrations.RenameModel(old_name="SlimSampleResult", new_name="SampleResult"),
        migrations.AlterField(
            model_name="sampleresult",
            name="job",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="samples",
                to="evals.evaluationjob",
            ),
        ),
    ]
