"""Board page, exports and leaderboard API under concurrent load, each against a static file of
the same bytes served by the same server in the same run.

Fills a fresh PostgreSQL database (benchmarks/board_data.py) with a published NaVAB release and
a DiverValue-Bench release and `--models` models (default 1,000) with every score their
boards read, by bulk_create. Then starts gunicorn on the settings `make demo` runs
(leaderboard.settings, DEBUG off, WhiteNoise serving static files) and measures, with
`--clients` concurrent keep-alive clients: both benchmarks' board pages (the default view and
a slice with another method), the JSON and CSV exports, the leaderboard API at page_size=500
and, for each, a static file holding exactly its bytes. Prints throughput, p50/p99 latency,
the ratios against each one's static twin, and whether the goals are met: every page at least
0.5x its twin's throughput with a p99 under 4x its twin's; the exports and the API at least as
fast as the NaVAB page. The API's anonymous rate limit is lifted for the run.

Clients and server share this machine: on few cores the clients take CPU from the server,
so compare the rows (same conditions) rather than the absolute figures. The database, the
temporary folder and the server are removed at the end, on failure and on Ctrl-C or SIGTERM.

    .venv/bin/python benchmarks/web_load.py [--models 1000] [--clients 8] [--requests 2000]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import board_data  # benchmarks/, next to this script

ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = "bench"
PAGE_GOAL = (0.5, 4.0)  # throughput at least this share of static's; p99 under this multiple


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

    def add(self, other: Measurement) -> Measurement:
        return Measurement(
            self.label,
            self.requests + other.requests,
            self.seconds + other.seconds,
            self.latencies + other.latencies,
            max(self.bytes_per_response, other.bytes_per_response),
            self.errors + other.errors,
        )


def _admin(url: str) -> tuple[str, str]:
    """The maintenance database's URL on the same server, and the database's name."""
    parsed = urlparse(url)
    return parsed._replace(path="/postgres").geturl(), parsed.path.lstrip("/")


def create_database(url: str) -> None:
    """Create the run's database, refusing one that exists: it may be another run's. Dropping
    it first, as runs did, ended that run's connections and left the two runs writing one
    database (a full-size import found the small run's release and was refused)."""
    import psycopg

    admin, name = _admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        try:
            conn.execute(f'CREATE DATABASE "{name}"')
        except psycopg.errors.DuplicateDatabase:
            raise SystemExit(
                f"database {name} exists: another run may be using it. Name another "
                f'(--db-url), or drop it if no run is (DROP DATABASE "{name}")'
            ) from None


def drop_database(url: str) -> None:
    """Drop the run's own database (after create_database), ending its connections."""
    import psycopg

    admin, name = _admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Target:
    label: str
    path: str
    #: "page": measured against its static twin; "data": against the NaVAB page as well
    kind: str

    def twin(self, index: int) -> str:
        return f"/static/{STATIC_DIR}/{index:02d}.bin"


TARGETS = (
    Target("navab page", "/navab/board/", "page"),
    Target("navab page us/aj", "/navab/board/?nation=us&mode=official&method=aj", "page"),
    Target("dvb page", "/divervalue/board/", "page"),
    Target("dvb page east asia", "/divervalue/board/?region=East+Asia&metric=margin", "page"),
    Target("navab json export", "/navab/board/export.json", "data"),
    Target("navab csv export", "/navab/board/export.csv?nation=fr", "data"),
    Target("dvb json export", "/divervalue/board/export.json", "data"),
    Target("api page_size=500", "/api/benchmarks/navab/leaderboard/?page_size=500", "data"),
)


def render_page(path: str, port: int) -> bytes:
    """The bytes gunicorn will answer PATH with (same Host, so the API's links match)."""
    from django.test import Client

    response = Client(HTTP_HOST=f"127.0.0.1:{port}").get(path)
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

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    flat = [x for per in latencies for x in per]
    return Measurement(label, len(flat), seconds, flat, max(sizes), sum(errors))


def goals(pairs: list[tuple[Target, Measurement, Measurement]]) -> list[tuple[str, bool]]:
    """Each goal, worded with its figures, and whether it is met."""
    met: list[tuple[str, bool]] = []
    share, p99_factor = PAGE_GOAL
    page = next(m for t, m, _ in pairs if t.kind == "page")
    for target, m, static in pairs:
        thr = m.throughput / static.throughput
        p99 = m.percentile(0.99) / static.percentile(0.99)
        if m.errors:
            met.append((f"{target.label}: {m.errors} errors", False))
        if target.kind == "page":
            met.append(
                (f"{target.label}: throughput {thr:.2f}x static (>= {share}x)", thr >= share)
            )
            met.append(
                (f"{target.label}: p99 {p99:.2f}x static (< {p99_factor}x)", p99 < p99_factor)
            )
        else:
            vs_page = m.throughput / page.throughput
            met.append(
                (f"{target.label}: throughput {vs_page:.2f}x the navab page (>= 1x)", vs_page >= 1)
            )
    return met


def report(pairs: list[tuple[Target, Measurement, Measurement]]) -> bool:
    head = f"{'target':<21}{'bytes':>9}{'err':>5}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}"
    print(f"\n{head}{'static req/s':>14}{'p50 ms':>8}{'p99 ms':>8}{'thr x':>7}{'p99 x':>7}")
    for target, m, static in pairs:
        print(
            f"{target.label:<21}{m.bytes_per_response:>9}{m.errors:>5}{m.throughput:>9.1f}"
            f"{1000 * m.percentile(0.5):>8.1f}{1000 * m.percentile(0.99):>8.1f}"
            f"{static.throughput:>14.1f}{1000 * static.percentile(0.5):>8.1f}"
            f"{1000 * static.percentile(0.99):>8.1f}"
            f"{m.throughput / static.throughput:>7.2f}"
            f"{m.percentile(0.99) / static.percentile(0.99):>7.2f}"
        )
    print("\nthr x: throughput / its static twin's; p99 x: p99 latency / its static twin's")
    slowest = max(pairs, key=lambda pair: max(pair[1].latencies))
    print(f"slowest single request: {1000 * max(slowest[1].latencies):.0f} ms ({slowest[0].label})")
    results = goals(pairs)
    print("\ngoals:")
    for text, ok in results:
        print(f"  [{'met' if ok else 'NOT met'}] {text}")
    everything = all(ok for _, ok in results)
    print(f"all goals met: {'yes' if everything else 'no'}")
    return everything


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/navab_webload")
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000, help="per target")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds per target")
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--path", action="append", default=[], help="a further page to measure")
    parser.add_argument("--keep-db", action="store_true", help="leave the database for inspection")
    args = parser.parse_args()

    create_database(args.db_url)  # first: a run refused its database leaves nothing behind
    var_dir = Path(tempfile.mkdtemp(prefix="navab-webload-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leaderboard.settings",
        "DATABASE_URL": args.db_url,
        "DB_CONN_MAX_AGE": "60",  # persistent connections, as in production
        "DEBUG": "0",
        "NAVAB_VAR_DIR": str(var_dir),
        # One client address sends every request (anonymous requests count as both).
        "API_ANON_RATE": "1000000/s",
        "API_USER_RATE": "1000000/s",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    print(
        f"database {args.db_url.rsplit('/', 1)[-1]} (fresh); temporary folder {var_dir}", flush=True
    )
    targets = [*TARGETS, *(Target(path, path, "page") for path in args.path)]
    # SIGTERM ends the run as Ctrl-C does, through the clean-up below.
    signal.signal(signal.SIGTERM, _interrupted)
    # Whatever fails from here on (migrate, fill, the page, gunicorn, Ctrl-C), what this run
    # created goes: the database (unless --keep-db), the var folder and the server.
    server: subprocess.Popen[bytes] | None = None
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        print(f"filled: {board_data.fill(args.models)}", flush=True)
        print(f"fill took {time.perf_counter() - started:.1f} s", flush=True)

        # Static twins: each target's exact bytes, files WhiteNoise serves from STATIC_ROOT
        # (it lists them when it starts, so they are written before gunicorn is).
        for index, target in enumerate(targets):
            body = render_page(target.path, args.port)
            copy = var_dir / "staticfiles" / target.twin(index).removeprefix("/static/")
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(body)

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
        measured = measure(args, server, targets)
    except KeyboardInterrupt:
        print("interrupted: removing what this run created", file=sys.stderr, flush=True)
        measured = None
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop clean-up
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(var_dir, ignore_errors=True)
        if not args.keep_db:
            if "django" in sys.modules:
                from django.db import connections

                connections.close_all()
            drop_database(args.db_url)
        print("removed: server, temporary folder" + ("" if args.keep_db else ", database"))
    if measured is None:
        raise SystemExit(130)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def measure(
    args: argparse.Namespace, server: subprocess.Popen[bytes], targets: list[Target]
) -> bool:
    wait_until_up(args.port, targets[0].twin(0), server)
    cold_began = time.perf_counter()
    wait_until_up(args.port, targets[0].path, server)
    cold_ms = 1000 * (time.perf_counter() - cold_began)
    print(f"first page request (cold cache in one worker): {cold_ms:.0f} ms", flush=True)
    for index, target in enumerate(targets):  # every worker's cache and connection
        for path in (target.path, target.twin(index)):
            load("warm-up", args.port, path, args.clients, args.clients * args.workers * 2)
    # Rounds through every target and its twin, so that load from elsewhere on the machine
    # falls on all rows alike rather than on whichever was being measured at the time.
    per_round = max(args.clients, args.requests // args.rounds)
    totals: dict[str, Measurement] = {}
    indexed = list(enumerate(targets))
    for r in range(args.rounds):
        # Each round starts at another target: no row always follows the same one.
        start = r % len(indexed)
        for index, target in indexed[start:] + indexed[:start]:
            for key, path in ((target.label, target.path), (f"twin {index}", target.twin(index))):
                m = load(key, args.port, path, args.clients, per_round)
                totals[key] = totals[key].add(m) if key in totals else m
    pairs = [(t, totals[t.label], totals[f"twin {i}"]) for i, t in enumerate(targets)]
    print(
        f"\n{args.models} models, {args.clients} clients, gunicorn {args.workers} workers x "
        f"{args.threads} threads, {args.requests} requests per row in {args.rounds} rounds; "
        "clients and server share "
        f"this machine ({os.cpu_count()} CPUs)"
    )
    return report(pairs)


if __name__ == "__main__":
    main()
