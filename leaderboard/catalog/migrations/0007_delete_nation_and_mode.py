"""NaVAB's Nation and Mode tables go: nothing points at them since items and scores keep their
slices as values (0005, evals 0006), their rows are NaVAB's declared nations and modes as
0002 and 0003 wrote them, and `/api/nations/` and `/api/modes/` answer from that declaration.
Going back creates the tables and seeds them from the declaration again."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from leaderboard.catalog.migrations._navab_reference import seed_reference_data


def seed(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    seed_reference_data(apps.get_model("benchmark", "Nation"), apps.get_model("benchmark", "Mode"))


class Migration(migrations.Migration):
    dependencies = [
        ("benchmark", "0006_release_facets"),
        # Its data migration reads the tables' rows.
        ("evals", "0006_generic_scores_and_samples"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, seed),
        migrations.DeleteModel(name="Nation"),
        migrations.DeleteModel(name="Mode"),
    ]
