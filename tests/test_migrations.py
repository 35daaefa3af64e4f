import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_have_no_pending_migrations():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit:  # --check exits with status 1 when a model change has no migration
        pytest.fail(f"Model changes without a migration:\n{out.getvalue()}")
