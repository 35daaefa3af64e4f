"""Triples become generic items: slice values and the benchmark's declared fields as JSON.

Every existing triple keeps its row (and so every per-example result pointing at it): its
nation and mode move into `slices` (with one indexed ItemSlice row each), its NaVAB content
columns into `data`, then the columns go. The field lists below are NaVAB's at this point in
history, written out so that a later change of the declaration cannot change this migration.
Going back restores the columns from `slices` and `data` on a database without items (the
nation and mode columns come back NOT NULL and empty first).
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.search import refresh_search_documents
from leaderboard.catalog.slices import index_slices

CONTENT_COLUMNS = (
    "question",
    "statement",
    "reverse_statement",
    "speaker",
    "topic",
    "language",
    "news_excerpt",
    "full_source",
    "raw_generation",
    "filter_flag",
    "filter_flag_text",
)
BATCH = 2000


def triples_to_items(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    item_model = apps.get_model("benchmark", "Item")
    items = item_model.objects.select_related("nation", "mode").order_by("id")
    batch: list[Any] = []
    for item in items.iterator(chunk_size=BATCH):
        item.slices = {"nation": item.nation.code, "mode": item.mode.code}
        item.data = {name: getattr(item, name) for name in CONTENT_COLUMNS}
        batch.append(item)
        if len(batch) >= BATCH:
            item_model.objects.bulk_update(batch, ["slices", "data"])
            batch = []
    item_model.objects.bulk_update(batch, ["slices", "data"])
    index_slices(item_model, apps.get_model("benchmark", "ItemSlice"), item_model.objects.all())


def items_to_triples(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    item_model = apps.get_model("benchmark", "Item")
    nations = {n.code: n for n in apps.get_model("benchmark", "Nation").objects.all()}
    modes = {m.code: m for m in apps.get_model("benchmark", "Mode").objects.all()}
    batch: list[Any] = []
    for item in item_model.objects.order_by("id").iterator(chunk_size=BATCH):
        item.nation = nations[item.slices["nation"]]
        item.mode = modes[item.slices["mode"]]
        for name in CONTENT_COLUMNS:
            if name in item.data:
                setattr(item, name, item.data[name])
        batch.append(item)
        if len(batch) >= BATCH:
            item_model.objects.bulk_update(batch, ["nation", "mode", *CONTENT_COLUMNS])
            batch = []
    item_model.objects.bulk_update(batch, ["nation", "mode", *CONTENT_COLUMNS])


def refresh_documents(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # The documents are rebuilt from the declared searchable fields: the news excerpt is now
    # searched too, and the reverse statement weighs like the statement (both required text).
    refresh_search_documents(apps.get_model("benchmark", "Item").objects.all(), get_benchmark("navab"))


class Migration(migrations.Migration):
    # After the evals migrations that point at the old model name, so they render before it.
    dependencies = [
        ("benchmark", "0004_benchmarks_own_releases"),
        ("evals", "0006_generic_scores_and_samples"),
    ]

    operations = [
        migrations.RenameModel("Triple", "Item"),
        migrations.AlterField(
            model_name="item",
            name="release",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="items",
                to="benchmark.datasetrelease",
            ),
        ),
        migrations.AddField(model_name="item", name="slices", field=models.JSONField(default=dict)),
        migrations.AddField(model_name="item", name="data", field=models.JSONField(default=dict)),
        migrations.CreateModel(
            name="ItemSlice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("dimension", models.CharField(max_length=32)),
                ("value", models.CharField(max_length=64)),
                (
                    "item",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="slice_values",
                        to="benchmark.item",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["dimension", "value", "item"], name="item_slice_lookup")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("item", "dimension"), name="one_value_per_dimension"
                    )
                ],
            },
        ),
        migrations.RunPython(triples_to_items, items_to_triples),
        migrations.RemoveIndex(model_name="item", name="triple_release_nm"),
        *[migrations.RemoveField(model_name="item", name=name) for name in CONTENT_COLUMNS],
        migrations.RemoveField(model_name="item", name="nation"),
        migrations.RemoveField(model_name="item", name="mode"),
        migrations.AlterModelOptions(name="item", options={"ordering": ["id"]}),
        migrations.RunPython(refresh_documents, migrations.RunPython.noop),
    ]
