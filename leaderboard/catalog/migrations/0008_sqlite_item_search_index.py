"""SQLite only: a full-text index of each item's `data` (an FTS5 table kept by triggers), which
the search off PostgreSQL reads to find its candidate items before matching its exact pattern
(catalog.search): a pattern over every item of a full DiverValue-Bench release took seconds.
PostgreSQL has its tsvector column and GIN index instead, so this is a no-op there."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from leaderboard.catalog.search import FTS_TABLE

# Every value of the item's `data` (the searchable fields are among them, whichever benchmark
# declares them), one a line. Contentless: the items hold the text already, and the table only
# has to say which rows hold a word. A contentless table forgets a row only when told the exact
# text it was given, which this same expression recomputes from the old row.
_DOCUMENT = "(SELECT group_concat(value, char(10)) FROM json_each({row}.data))"

_CREATE = [
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(document, content='', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON benchmark_item BEGIN "
    f"INSERT INTO {FTS_TABLE} (rowid, document) VALUES (new.id, {_DOCUMENT.format(row='new')}); "
    "END",
    f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON benchmark_item BEGIN "
    f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, document) "
    f"VALUES ('delete', old.id, {_DOCUMENT.format(row='old')}); "
    "END",
    f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF data ON benchmark_item BEGIN "
    f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, document) "
    f"VALUES ('delete', old.id, {_DOCUMENT.format(row='old')}); "
    f"INSERT INTO {FTS_TABLE} (rowid, document) VALUES (new.id, {_DOCUMENT.format(row='new')}); "
    "END",
    # The items already stored.
    f"INSERT INTO {FTS_TABLE} (rowid, document) "
    f"SELECT id, {_DOCUMENT.format(row='benchmark_item')} FROM benchmark_item",
]

_DROP = [
    f"DROP TRIGGER {FTS_TABLE}_update",
    f"DROP TRIGGER {FTS_TABLE}_delete",
    f"DROP TRIGGER {FTS_TABLE}_insert",
    f"DROP TABLE {FTS_TABLE}",
]


def _run(statements: list[str], schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in statements:
        schema_editor.execute(statement, params=None)


def create_index(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(_CREATE, schema_editor)


def drop_index(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(_DROP, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("benchmark", "0007_delete_nation_and_mode"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
