"""Seed the NaVAB nations and modes, and add the PostgreSQL full-text index."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from leaderboard.catalog.migrations._navab_reference import seed_reference_data

_INDEX = "benchmark_triple_search_gin"


def seed(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    seed_reference_data(apps.get_model("benchmark", "Nation"), apps.get_model("benchmark", "Mode"))


def add_search_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {_INDEX} ON benchmark_triple USING gin (search_document)"
        )


def drop_search_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("benchmark", "0001_initial")]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(add_search_index, drop_search_index),
    ]
