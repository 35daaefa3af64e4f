"""PostgreSQL only: a GIN index of each item's `data` values (jsonb_path_ops), so that a filter
on a declared field (DiverValue-Bench's user id, NaVAB's topic) is an index lookup of the
values the release's facets hold instead of a read of every item (catalog.filters). SQLite has
no such index; its filters read the items, which it does quickly enough."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

_INDEX = "benchmark_item_data_gin"


def create_index(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {_INDEX} ON benchmark_item USING gin (data jsonb_path_ops)"
        )


def drop_index(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("benchmark", "0008_sqlite_item_search_index"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
