"""Serve the site with a real Celery worker beside it, on whatever broker is configured.

On the embedded default (SQLite + kombu's filesystem transport) this is the whole product on
one machine: web, worker (queues default and gpu) and the periodic job reaper.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from leaderboard.evals.management.commands.demo import demo_worker_env


class Command(BaseCommand):
    help = "Run the web server and a Celery worker (with the beat scheduler) together."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument("--no-worker", action="store_true", help="Serve pages only.")

    def _watch(self, worker: subprocess.Popen[bytes]) -> None:
        """Without its worker the demo would queue jobs forever: stop the server too."""
        code = worker.wait()
        if not self._stopping:
            self.stderr.write(f"The Celery worker exited (code {code}); stopping the server.")
            os.kill(os.getpid(), signal.SIGINT)

    def handle(self, *args: Any, **options: Any) -> None:
        worker: subprocess.Popen[bytes] | None = None
        self._stopping = False
        if not options["no_worker"]:
            env = {**demo_worker_env(), **os.environ}
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "leaderboard",
                    "worker",
                    "--beat",
                    "-Q",
                    "default,gpu",
                    "--concurrency",
                    "1",
                    "--loglevel",
                    "INFO",
                    "--hostname",
                    "demo-worker@%h",
                ],
                env=env,
                # Its own process group: stopping the demo signals the worker, its pool and
                # its beat together, and a Ctrl-C in the terminal reaches it only through us.
                start_new_session=True,
            )
            self.stdout.write(f"Celery worker started (pid {worker.pid}).")
            threading.Thread(target=self._watch, args=(worker,), daemon=True).start()
        # SIGTERM (a service manager, `kill`) would end this process without running the
        # `finally` below and orphan the worker: treat it as Ctrl-C, which runserver ends on.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            call_command("runserver", f"{options['host']}:{options['port']}", use_reloader=False)
        finally:
            self._stopping = True
            if worker is not None:
                stop_group(worker)


def stop_group(worker: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """A warm shutdown of the worker; what is left of its group after `timeout` is killed.

    The signal goes to the worker's main process only: it stops its pool and beat itself. A
    pool child signalled directly dies under it, which Celery logs at ERROR ("exited with
    signal 15") although nothing went wrong."""
    try:
        os.kill(worker.pid, signal.SIGTERM)
        worker.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    # The main process waits for its children on a warm shutdown; anything still in the
    # group (a hung pool child, a timed-out shutdown) goes now.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
