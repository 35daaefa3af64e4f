"""The site's settings for a test run, with a broker namespace and a test database of the run's
own, so that runs sharing one Redis database and one DATABASE_URL (two clones on one machine,
say) neither take nor purge each other's messages, answer each other's broadcasts, nor drop
each other's test database.

The processes a test starts (workers, gunicorn, servers) inherit TEST_RUN_ID and this module
through the environment, so they join the run's namespace.
"""

import os
import uuid

RUN_ID = os.environ.setdefault("TEST_RUN_ID", uuid.uuid4().hex[:8])
os.environ["BROKER_NAMESPACE"] = f"test-{RUN_ID}"

from leaderboard.settings import *  # noqa: E402, F403

if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":  # noqa: F405
    # pytest-django creates and drops it; a SQLite test database lives in memory anyway.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{RUN_ID}"}  # noqa: F405

# Per-example details files are named by job id, and each run's test database numbers its jobs
# afresh: the run's own media folder keeps one run's files from being read by another's jobs.
# The processes a test starts import this module with the same TEST_RUN_ID, so they share it.
if "MEDIA_ROOT" not in os.environ:
    import tempfile
    from pathlib import Path

    MEDIA_ROOT = Path(tempfile.gettempdir()) / f"navab-test-media-{RUN_ID}"
