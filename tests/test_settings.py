"""Settings read from the environment fail at start-up on a value the site cannot use."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # each test starts a Python process


def test_a_site_with_an_unpinned_reference_judge_does_not_start():
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='leaderboard.settings'; django.setup()"
    env = {"EVAL_REFERENCE_JUDGE": "org/judge", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode != 0
    assert "EVAL_REFERENCE_JUDGE: revision for hub model 'org/judge'" in out.stderr


def test_the_default_filesystem_broker_connects_without_a_no_hostname_warning():
    code = (
        "import django, os, logging; os.environ['DJANGO_SETTINGS_MODULE']='leaderboard.settings';"
        " django.setup(); logging.basicConfig(level=logging.WARNING);"
        " from django.conf import settings; from kombu import Connection;"
        " Connection(settings.CELERY_BROKER_URL)._info(); print(settings.CELERY_BROKER_URL)"
    )
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("filesystem://")
    assert "No hostname was supplied" not in out.stderr
