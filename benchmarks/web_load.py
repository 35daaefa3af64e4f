"""Leaderboard page under concurrent load, against a static file of the same size.

Fills a fresh PostgreSQL database with a published release and `--models` models (default
1,000), each with 30 scores: a finished job with every cell (5 nations x 2 modes x 2 methods)
and an older, superseded attempt with the 10 MC cells (the board must pick the newest), all
by bulk_create. Then starts gunicorn on the settings `make demo` runs (leaderboard.settings,
DEBUG off, WhiteNoise serving static files), and measures the leaderboard page and a static
file holding exactly the page's bytes, served by the same gunicorn in the same run, with
`--clients` concurrent keep-alive clients. Prints throughput, p50/p99 latency and the ratios.

Clients and server share this machine: on few cores the clients take CPU from the server,
so compare the two rows (same conditions) rather than the absolute figures.

    .venv/bin/python benchmarks/web_load.py [--models 1000] [--clients 8] [--requests 2000]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
NATIONS = ("cn", "us", "uk", "fr", "de")
STATIC_COPY = "bench/board-copy.html"


@dataclass
class Measurement:
    label: str
    requests: int
    seconds: float
    latencies: list[float]
    bytes_per_response: int
    errors: int

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _admin(url: str) -> tuple[str, str]:
    """The maintenance database's URL on the same server, and the database's name."""
    parsed = urlparse(url)
    return parsed._replace(path="/postgres").geturl(), parsed.path.lstrip("/")


def drop_database(url: str, *, create: bool = False) -> None:
    import psycopg

    admin, name = _admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def fill(models: int) -> None:
    """The rows a board of `models` models reads: one triple per nation x mode (the board
    shows the nations a mode covers on the release, so a release without triples ranks
    nobody), and every model's jobs and scores."""
    from django.utils import timezone

    from leaderboard.benchmark.models import (
        Benchmark,
        DatasetRelease,
        Item,
        ItemSlice,
        Mode,
        Nation,
        make_triple_uid,
    )
    from leaderboard.benchmark.slices import index_slices
    from leaderboard.evals.models import EvaluationJob, JobStatus, LanguageModel, Score

    now = timezone.now()
    release = DatasetRelease.objects.create(
        benchmark=Benchmark.objects.get(slug="navab"),
        version="load-1",
        title="Load test release",
        status=DatasetRelease.Status.PUBLISHED,
        published_at=now,
    )
    nations = list(Nation.objects.filter(code__in=NATIONS))
    modes = list(Mode.objects.evaluated())
    Item.objects.bulk_create(
        Item(
            release=release,
            uid=make_triple_uid(nation.code, mode.code, f"Q {nation.code}", f"S {mode.code}"),
            slices={"nation": nation.code, "mode": mode.code},
            data={
                "question": f"Q {nation.code}",
                "statement": f"S {mode.code}",
                "reverse_statement": f"RS {mode.code}",
            },
        )
        for nation in nations
        for mode in modes
    )
    index_slices(Item, ItemSlice, release.items.all())
    types = ("base", "instruct", "moe", "aligned")
    rows = LanguageModel.objects.bulk_create(
        LanguageModel(
            name=f"org/model-{i:05d}",
            revision=f"{i:040x}",
            params_billions=[0.5, 1.5, 7.0, 13.0, 70.0][i % 5],
            model_type=types[i % len(types)],
            precision="bfloat16",
            family=f"family-{i % 20}",
        )
        for i in range(models)
    )
    jobs = EvaluationJob.objects.bulk_create(
        EvaluationJob(
            model=model,
            release=release,
            attempt=attempt,
            status=JobStatus.FINISHED,
            methods=["mc", "aj"],
            finished_at=now - timedelta(days=2 - attempt),
        )
        for model in rows
        for attempt in (1, 2)
    )
    scores = []
    for index, job in enumerate(jobs):
        latest = job.attempt == 2
        for nation in nations:
            for mode in modes:
                for method in ("mc", "aj") if latest else ("mc",):
                    value = 0.3 + 0.6 * ((index * 7919 + nation.pk * 31 + mode.pk) % 997) / 997
                    scores.append(
                        Score(
                            job=job,
                            slices={"nation": nation.code, "mode": mode.code},
                            slice_key=f"mode={mode.code}|nation={nation.code}",
                            method=method,
                            metric="acc",
                            value=value,
                            n=400,
                            stderr=0.024,
                            ci_low=max(0.0, value - 0.047),
                            ci_high=min(1.0, value + 0.047),
                            parts={
                                "pos": {"value": value, "n": 200},
                                "neg": {"value": value, "n": 200},
                            },
                        )
                    )
    Score.objects.bulk_create(scores, batch_size=5000)
    print(f"filled: {len(rows)} models, {len(jobs)} jobs, {len(scores)} scores")


def render_page(path: str) -> bytes:
    from django.test import Client

    response = Client().get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code} in process")
    return response.content


def wait_until_up(
    port: int, path: str, server: subprocess.Popen[bytes], timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer {path} within {timeout:.0f} s")


def load(label: str, port: int, path: str, clients: int, total: int) -> Measurement:
    per_client = max(1, total // clients)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    sizes = [0] * clients
    start_gate = threading.Barrier(clients + 1)

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start_gate.wait()
        for _ in range(per_client):
            began = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                ok, body = False, b""
            latencies[i].append(time.perf_counter() - began)
            sizes[i] = len(body) or sizes[i]
            errors[i] += not ok
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    flat = [x for per in latencies for x in per]
    return Measurement(label, len(flat), seconds, flat, max(sizes), sum(errors))


def report(rows: list[Measurement]) -> None:
    print(
        f"\n{'target':<22}{'bytes':>10}{'requests':>10}{'errors':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
    )
    for m in rows:
        print(
            f"{m.label:<22}{m.bytes_per_response:>10}{m.requests:>10}{m.errors:>8}"
            f"{m.throughput:>10.1f}{1000 * m.percentile(0.5):>9.1f}{1000 * m.percentile(0.99):>9.1f}"
        )
    page, static = rows
    print(
        f"\nstatic/page throughput ratio: {static.throughput / page.throughput:.2f}x; "
        f"page/static p50 latency: {page.percentile(0.5) / static.percentile(0.5):.2f}x, "
        f"p99: {page.percentile(0.99) / static.percentile(0.99):.2f}x; "
        f"mean page latency {1000 * statistics.fmean(page.latencies):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/navab_webload")
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000, help="per target")
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--path", default="/navab/board/", help="the page to load (default the board)"
    )
    parser.add_argument("--keep-db", action="store_true", help="leave the database for inspection")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="navab-webload-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leaderboard.settings",
        "DATABASE_URL": args.db_url,
        "DB_CONN_MAX_AGE": "60",  # persistent connections, as in production
        "DEBUG": "0",
        "NAVAB_VAR_DIR": str(var_dir),
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    drop_database(args.db_url, create=True)
    # Whatever fails from here on (migrate, fill, the page, gunicorn), what this run created
    # goes: the database (unless --keep-db), the var folder and the server.
    server: subprocess.Popen[bytes] | None = None
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        fill(args.models)
        print(f"fill took {time.perf_counter() - started:.1f} s")

        # The static twin: the page's exact bytes, a file WhiteNoise serves from STATIC_ROOT.
        page = render_page(args.path)
        copy = var_dir / "staticfiles" / STATIC_COPY
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(page)
        print(f"page {args.path}: {len(page)} bytes; static copy at /static/{STATIC_COPY}")

        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "leaderboard.wsgi",
                "--bind",
                f"127.0.0.1:{args.port}",
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
                "--worker-class",
                "gthread",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        measure(args, server)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(var_dir, ignore_errors=True)
        if not args.keep_db:
            if "django" in sys.modules:
                from django.db import connections

                connections.close_all()
            drop_database(args.db_url)


def measure(args: argparse.Namespace, server: subprocess.Popen[bytes]) -> None:
    wait_until_up(args.port, f"/static/{STATIC_COPY}", server)
    cold_began = time.perf_counter()
    wait_until_up(args.port, args.path, server)
    print(
        f"first page request (cold cache in one worker): {1000 * (time.perf_counter() - cold_began):.0f} ms"
    )
    targets = [
        ("leaderboard page", args.path),
        ("static file (same size)", f"/static/{STATIC_COPY}"),
    ]
    # Warm every worker's cache and connection before measuring.
    for _, path in targets:
        load("warm-up", args.port, path, args.clients, args.clients * args.workers * 2)
    rows = [load(label, args.port, path, args.clients, args.requests) for label, path in targets]
    print(
        f"\n{args.models} models, {args.clients} clients, gunicorn {args.workers} workers x {args.threads} threads"
    )
    report(rows)


if __name__ == "__main__":
    main()
