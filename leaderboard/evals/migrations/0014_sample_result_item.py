"""`SampleResult.triple` is `SampleResult.item`: results point at any benchmark's items, and
"triple" is NaVAB's word for its own. A rename only: the column becomes `item_id` and every row
is kept."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("evals", "0013_cards_without_server_paths")]

    # The unique constraint names its fields, so it is dropped around the rename and made again
    # on the renamed column (SQLite rebuilds the table for a foreign key's rename).
    operations = [
        migrations.RemoveConstraint("sampleresult", "unique_sample_per_job"),
        migrations.RenameField("sampleresult", "triple", "item"),
        migrations.AddConstraint(
            "sampleresult",
            models.UniqueConstraint(fields=("job", "item", "method"), name="unique_sample_per_job"),
        ),
    ]
