"""Benchmarks become rows, and every release belongs to one: existing releases are NaVAB's."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from leaderboard.catalog.registry_sync import sync_benchmarks


def seed_and_assign(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    benchmark_model = apps.get_model("benchmark", "Benchmark")
    sync_benchmarks(benchmark_model)
    navab = benchmark_model.objects.get(slug="navab")
    apps.get_model("benchmark", "DatasetRelease").objects.update(benchmark=navab)


class Migration(migrations.Migration):
    dependencies = [("benchmark", "0003_triple_screening_text_extra_and_source_mode")]

    operations = [
        migrations.CreateModel(
            name="Benchmark",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("slug", models.SlugField(max_length=32, unique=True)),
                ("name", models.CharField(max_length=100)),
                ("description", models.TextField(blank=True)),
                ("paper_title", models.CharField(blank=True, max_length=300)),
                ("paper_url", models.URLField(blank=True)),
                ("licence", models.CharField(blank=True, max_length=64)),
                ("citation", models.TextField(blank=True, help_text="BibTeX.")),
                ("sort_order", models.PositiveSmallIntegerField(default=0)),
            ],
            options={"ordering": ["sort_order", "slug"]},
        ),
        migrations.AddField(
            model_name="datasetrelease",
            name="benchmark",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="releases",
                to="benchmark.benchmark",
            ),
        ),
        migrations.RunPython(seed_and_assign, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="datasetrelease",
            name="benchmark",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="releases",
                to="benchmark.benchmark",
            ),
        ),
    ]
