"""Each release's field facets, stored once (see benchmark.facets): existing releases get
theirs computed from their items here, as an import computes them for new ones."""

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from evaluation.benchmarks import benchmark_slugs
from leaderboard.catalog.facets import refresh_facets


def fill_facets(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    release_model = apps.get_model("benchmark", "DatasetRelease")
    item_model = apps.get_model("benchmark", "Item")
    # A release of a benchmark no longer registered has no declaration to name its fields.
    registered = set(benchmark_slugs())
    for release in release_model.objects.select_related("benchmark"):
        if release.benchmark.slug in registered:
            refresh_facets(release_model, item_model, release)


class Migration(migrations.Migration):
    dependencies = [
        ("benchmark", "0005_items_generic_over_slices"),
    ]

    operations = [
        migrations.AddField(
            model_name="datasetrelease",
            name="facets",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RunPython(fill_facets, migrations.RunPython.noop),
    ]
