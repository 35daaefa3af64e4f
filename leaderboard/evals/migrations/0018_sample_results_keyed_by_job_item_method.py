"""Per-example results are keyed by (job, item, method) instead of a surrogate id.

The id cost 8 bytes a row and its own index (~30 of the ~165 bytes a row took on PostgreSQL),
and nothing shows or looks a result up by it: the unique (job, item, method) constraint it sat
beside becomes the primary key. Django cannot turn a table's key into a composite one in place,
and PostgreSQL never gives a dropped column's space back without a rewrite, so the rows go to a
new table (as 0016 did), copied in the key's order so that its index is filled densely. Every
row keeps its job, item, method, value, correct and chosen; its long part stays in the job's
file, which is keyed by (item, method) already. Going back numbers the rows afresh.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = "job_id, item_id, value, correct, method, chosen"


def _copy(schema_editor: Any, source: Any, target: Any, order: str) -> None:
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"INSERT INTO {quote(target._meta.db_table)} ({COLUMNS}) "
        f"SELECT {COLUMNS} FROM {quote(source._meta.db_table)} ORDER BY {order}"
    )


def move_forward(apps: Any, schema_editor: Any) -> None:
    old = apps.get_model("evals", "SampleResult")
    new = apps.get_model("evals", "KeyedSampleResult")
    _copy(schema_editor, old, new, "job_id, item_id, method")
    # The planner's statistics now, not at autovacuum's next pass: without them PostgreSQL
    # guessed a thousand rows a job and sorted a job's 190,000 on disk for one page of them.
    schema_editor.execute(f"ANALYZE {schema_editor.quote_name(new._meta.db_table)}")


def move_back(apps: Any, schema_editor: Any) -> None:
    old = apps.get_model("evals", "SampleResult")
    new = apps.get_model("evals", "KeyedSampleResult")
    _copy(schema_editor, new, old, "job_id, item_id, method")


class Migration(migrations.Migration):
    dependencies = [
        ("benchmark", "0005_items_generic_over_slices"),
        ("evals", "0017_language_model_publisher_run"),
    ]

    operations = [
        migrations.CreateModel(
            name="KeyedSampleResult",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "job",
                        "item",
                        "method",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
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
            options={"ordering": ["job_id", "item_id", "method"]},
        ),
        migrations.RunPython(move_forward, move_back),
        migrations.DeleteModel(name="SampleResult"),
        migrations.RenameModel(old_name="KeyedSampleResult", new_name="SampleResult"),
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
