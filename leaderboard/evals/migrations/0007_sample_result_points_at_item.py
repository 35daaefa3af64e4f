"""Per-example results point at benchmark items (the renamed triples); the column and its data
stay as they are, only the model the foreign key names changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("benchmark", "0005_items_generic_over_slices"),
        ("evals", "0006_generic_scores_and_samples"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sampleresult",
            name="triple",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="benchmark.item",
            ),
        ),
    ]
