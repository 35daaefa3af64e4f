"""Cards stored before local models and judges were shown by name name them by their server
path (`/srv/.../var/models/...`), in their specs and in their commands. Rewrite each as the
runner now writes it: the folder's name and its content fingerprint (`local-unknown` where the
folder is gone). Nothing else on a card changes."""

from typing import Any

from django.db import migrations


def hide_server_paths(apps: Any, schema_editor: Any) -> None:
    from evaluation.local_models import public_card

    EvaluationJob = apps.get_model("evals", "EvaluationJob")
    for job in EvaluationJob.objects.exclude(repro_card={}).only("pk", "repro_card").iterator():
        card = job.repro_card
        if not isinstance(card, dict):
            continue
        public = public_card(card)
        if public != card:
            EvaluationJob.objects.filter(pk=job.pk).update(repro_card=public)


class Migration(migrations.Migration):
    dependencies = [("evals", "0012_failure_kind_setup")]

    operations = [migrations.RunPython(hide_server_paths, migrations.RunPython.noop)]
