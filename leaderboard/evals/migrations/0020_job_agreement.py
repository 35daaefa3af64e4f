"""Each job's method agreement per declared pair (`leaderboard.evals.agreement`). Jobs stored
before get theirs on first read, as their disparity does: no data to carry."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('evals', '0019_job_item_values'),
    ]

    operations = [
        migrations.CreateModel(
            name='JobAgreement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('pair', models.CharField(help_text="The methods' keys, A-B (mc-aj).", max_length=64)),
                ('detail', models.JSONField(default=dict, help_text='leaderboard.evals.agreement.PairAgreement as a dict; empty where no item has a verdict of both methods.')),
                ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='agreements', to='evals.evaluationjob')),
            ],
            options={
                'ordering': ['id'],
                'constraints': [models.UniqueConstraint(fields=('job', 'pair'), name='unique_agreement_per_job')],
            },
        ),
    ]
