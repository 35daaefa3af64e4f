"""Keep the release's raw screening text and unknown record keys on each triple, and seed the
German `source` split as a mode of its own (browsable, not evaluated)."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from leaderboard.catalog.migrations._navab_reference import seed_reference_data


def seed(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    seed_reference_data(apps.get_model("benchmark", "Nation"), apps.get_model("benchmark", "Mode"))


class Migration(migrations.Migration):
    dependencies = [("benchmark", "0002_seed_and_search_index")]

    operations = [
        migrations.AddField(
            model_name="triple",
            name="filter_flag_text",
            field=models.TextField(
                blank=True, help_text="The release's screening output the flag was derived from."
            ),
        ),
        migrations.AddField(
            model_name="triple",
            name="extra",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="Keys of the source record the importer does not know.",
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
