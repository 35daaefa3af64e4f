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
