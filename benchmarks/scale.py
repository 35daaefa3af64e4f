"""The publishers' real sizes at interactive speed: every figure of issue 20 from one run.

Writes full-size releases in each publisher's layout (DiverValue-Bench: 23,763 items of 1,396
users in 74 countries, long-tailed, answers of realistic length, `DiverValue-Bench_dataset.json`
and user-disjoint `DVB-train/val/test.json`; NaVAB: 63,000 triples in the hub's folders, China
26,200 quoted + 26,200 official, French `officia`, German's `source` split), imports them with
`manage.py import_release` (wall time, peak RSS, a no-op re-import), fills 200 then 1,000 models
(benchmarks/board_data.py: jobs, scores, per-example results on DVB-test; spread_values.py:
every ranked job's per-item values packed as the rank spread reads them), starts gunicorn
(2 workers x 4 threads) and measures each page warm and cold, its queries, bytes per
per-example row, a filtered Parquet download's memory and the first request after start-up.
Prints each figure beside its goal.

    .venv/bin/python benchmarks/scale.py [--database postgresql|sqlite] [--small]
        [--keep DIR | --reuse DIR]

Its database (PostgreSQL `navab_scale`, or a SQLite file), its Redis cache (a redis-server of
its own, as production shares one between web workers) and temporary folder are removed at
the end, on failure and on Ctrl-C or SIGTERM. `--keep DIR` saves the state after the import
and the first fill (the media folder, and the database: a SQLite file in DIR, or a PostgreSQL
template database named in DIR) with that part's figures; `--reuse DIR` starts from it, so
that timing pages again takes minutes instead of a new import.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import board_data  # benchmarks/, next to this script
import psutil
import spread_values
from tqdm import tqdm
from web_load import _interrupted, create_database, drop_database, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.benchmarks.divervalue.demo import make_demo  # noqa: E402
from evaluation.benchmarks.divervalue.regions import _BY_REGION  # noqa: E402


@dataclass(frozen=True)
class Preset:
    dvb_users: int
    dvb_items: int
    navab: dict[str, int]  # file under the release folder: records
    models: tuple[int, int]
    repeats: int


# The hub viewer's sizes: China 52.4k (26.2k a split), UK 6.4k, US 2.04k, French 1.94k; German
# the rest of about 63k, and its `source` split beside them.
FULL = Preset(
    1396,
    23763,
    {
        "China/human_statement_result.json": 26200,
        "China/official_statement_result.json": 26200,
        "UK/human_statement_result.json": 3200,
        "UK/official_statement_result.json": 3200,
        "US/human_statement_result.json": 1020,
        "US/official_statement_result.json": 1020,
        "french/human_statement_result.json": 970,
        "french/officia_statement_result.json": 970,
        "german/human_statement_result.json": 110,
        "german/official_statement_result.json": 110,
        "german/statements.json": 400,
    },
    (200, 1000),
    10,
)
SMALL = Preset(60, 1000, {k: max(4, v // 250) for k, v in FULL.navab.items()}, (4, 8), 3)

# Every country the publisher maps to a region, then a few it does not (they read as Other),
# to 74; the first ones hold most users, as PRISM's.
UNMAPPED = ["Prefer not to say", "Egypt", "Greece", "Peru", "Thailand", "Morocco"]
COUNTRIES = [*(c for names in _BY_REGION.values() for c in names), *UNMAPPED][:74]
MS = 1000.0
GOALS = {"warm": 300.0, "cold": 1000.0, "ratio": 1.5, "row": 150.0, "first": 1000.0}


# --- releases in the publishers' layouts ------------------------------------------------------


def _long(text: str, words: int, rng: random.Random) -> str:
    """TEXT grown to about WORDS words from its own sentences (PRISM answers run 100-300)."""
    pieces = text.split()
    return " ".join(pieces[i % len(pieces)] for i in range(words + rng.randrange(words // 2)))


def write_divervalue(folder: Path, preset: Preset) -> None:
    rng = random.Random(20)
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(COUNTRIES))]
    countries = rng.choices(COUNTRIES, weights, k=preset.dvb_users)
    countries[: len(COUNTRIES)] = COUNTRIES[: preset.dvb_users]  # every country has a user
    per_user = [preset.dvb_items // preset.dvb_users] * preset.dvb_users
    for u in range(preset.dvb_items - sum(per_user)):
        per_user[u] += 1
    records, splits = [], {"train": [], "val": [], "test": []}
    for u, (country, n) in enumerate(zip(countries, per_user, strict=True)):
        profile = make_demo.user(u)
        personal = profile.pop("personal")
        profile.update(user_id=f"user{u:05d}", **{"birth_country/region": country})
        split = "test" if u % 10 == 0 else "val" if u % 10 == 1 else "train"
        for k in range(n):
            question, factual, creative, dismissive = make_demo.QUESTIONS[
                (u * 7 + k) % len(make_demo.QUESTIONS)
            ]
            aligned, misaligned = (creative, dismissive) if personal else (factual, creative)
            record = {
                "id": f"c{u:05d}-{k:03d}",
                "question": question,
                "answer_w": _long(aligned, 180, rng),
                "answer_l": _long(misaligned, 150, rng),
                "preference": make_demo.preference_text(profile["stated_prefs"]),  # type: ignore[arg-type]
                **profile,
            }
            records.append(record)
            splits[split].append(record)
    folder.mkdir(parents=True)
    (folder / "DiverValue-Bench_dataset.json").write_text(json.dumps(records), encoding="utf-8")
    for split, rows in splits.items():
        (folder / f"DVB-{split}.json").write_text(json.dumps(rows), encoding="utf-8")


def write_navab(folder: Path, preset: Preset) -> None:
    from tests.navab_files import navab_record

    news = (
        "Officials presented the plan at a briefing on {i}, saying it would change how public "
        "services are funded; critics said the costs were understated and asked for a review. "
    )
    for name, n in preset.navab.items():
        official = "official" in name or "officia_" in name
        rows = [
            navab_record(
                i,
                # Each file its own triples: a triple in two splits would rank models twice.
                question=f"Should the state expand public hospitals ({name}, item {i})?",
                statement=f" The state should expand public hospitals ({name}, item {i}).",
                source="unknown" if official else " Minister of Health",
                raw_news=news.format(i=f"{name} {i}") * 8,  # about 2 KB, as a news article
            )
            for i in range(n)
        ]
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")


# --- import -----------------------------------------------------------------------------------


@dataclass
class Imported:
    seconds: float
    peak_mib: float
    noop_seconds: float
    lines: int
    #: the command's own "Took ..." line: import and download files apart
    took: str = ""
    #: CPU seconds of the command, of its database backend (PostgreSQL here; None on SQLite,
    #: whose work is the command's), and of the no-op re-import's command
    cpu: float = 0.0
    database_cpu: float | None = None
    noop_cpu: float = 0.0


# The import's connections say who they are (libpq reads PGAPPNAME), so their server
# processes can be found while it runs.
IMPORT_APP_NAME = "navab-scale-import"


class BackendCpu(threading.Thread):
    """The CPU seconds of the import's PostgreSQL backends, read from /proc while they run (the
    server is on this machine): with the command's own CPU, what an import costs whatever the
    load of the machine, which its wall time is not."""

    def __init__(self, db_url: str) -> None:
        super().__init__(daemon=True)
        self.db_url, self.done, self.seen = db_url, threading.Event(), dict[int, float]()

    def run(self) -> None:
        import psycopg

        tick = os.sysconf("SC_CLK_TCK")
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            while not self.done.wait(0.1):
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                    [IMPORT_APP_NAME],
                ).fetchall()
                for (pid,) in rows:
                    try:
                        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue  # gone, or not on this machine
                    self.seen[pid] = (int(stat[11]) + int(stat[12])) / tick  # utime + stime

    def stop(self) -> float:
        self.done.set()
        self.join()
        return sum(self.seen.values())


def _took(out: str) -> str:
    return next((line for line in out.splitlines() if line.startswith("Took ")), "")


def run_import(
    args: list[str], env: dict[str, str], *, check: bool = True
) -> tuple[float, float, str, float]:
    """Wall seconds (inf where it failed and CHECK is off), the child's peak RSS (MiB), its
    output and its CPU seconds."""
    command = [sys.executable, "manage.py", "import_release", *args]
    began = time.perf_counter()
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**env, "PGAPPNAME": IMPORT_APP_NAME},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - began
    if proc.returncode:
        if check:
            raise SystemExit(f"import_release {' '.join(args)} failed:\n{out[-3000:]}")
        print(f"import_release {' '.join(args)} failed (reported as FAIL)", flush=True)
        seconds = float("inf")
    return seconds, usage.ru_maxrss / 1024, out, usage.ru_utime + usage.ru_stime


def import_both(data: Path, env: dict[str, str]) -> dict[str, Imported]:
    results = {}
    postgres = env["DATABASE_URL"].startswith("postgres")
    for slug, folder, extra in (
        ("divervalue", data / "dvb", ["--licence", "CC-BY-NC-4.0"]),
        ("navab", data / "NaVAB", []),
    ):
        args = ["--benchmark", slug, str(folder), "--version", f"scale-{slug}", *extra, "--publish"]
        backend = BackendCpu(env["DATABASE_URL"]) if postgres else None
        if backend is not None:
            backend.start()
        seconds, peak, out, cpu = run_import(args, env)
        database_cpu = backend.stop() if backend is not None else None
        # refused: a figure, not the end
        noop, _, _, noop_cpu = run_import(args, env, check=False)
        results[slug] = Imported(
            seconds, peak, noop, len(out.splitlines()), _took(out), cpu, database_cpu, noop_cpu
        )
        print(f"imported {slug}: {seconds:.1f} s, peak RSS {peak:.0f} MiB", flush=True)
    return results


IMPORT_GOALS = {"divervalue": 30.0, "navab": 60.0}


def report_import(imported: dict[str, Imported]) -> None:
    """The import figures (issue 20, item 2), each beside its goal; the CPU seconds after them
    say what the wall times cost on a machine less busy."""
    for slug, limit in IMPORT_GOALS.items():
        i = imported[slug]
        for text, value, goal, ok in (
            (f"import {slug}", f"{i.seconds:.1f} s", f"<= {limit:.0f} s", i.seconds <= limit),
            (f"import {slug}: peak RSS", f"{i.peak_mib:.0f} MiB", "<= 400 MiB", i.peak_mib <= 400),
            (f"import {slug}: no-op re-import", f"{i.noop_seconds:.1f} s", "<= 5 s",
             i.noop_seconds <= 5),
            (f"import {slug}: summary lines", f"{i.lines}", "<= 40", i.lines <= 40),
        ):  # fmt: skip
            print(f"  {text:<44}{value:>12}  {goal:<14}{'pass' if ok else 'FAIL'}")
        database = (
            f", its database backend {i.database_cpu:.1f} s" if i.database_cpu is not None else ""
        )
        print(f"    ({i.took or 'no timing printed'})")
        print(
            f"    (CPU: the command {i.cpu:.1f} s{database}; the no-op's command {i.noop_cpu:.1f} s)"
        )


def import_only(args: argparse.Namespace, imported: dict[str, Imported]) -> None:
    """--import-only: the import figures alone (the full run fills models and times pages)."""
    print(
        f"\n{args.database}, {os.cpu_count()} CPUs, load average {os.getloadavg()}; "
        "import_release as the command runs (whole-release download files included)"
    )
    report_import(imported)


# --- pages ------------------------------------------------------------------------------------


@dataclass
class PageTimes:
    warm: list[float] = field(default_factory=list)
    cold: list[float] = field(default_factory=list)
    queries: int = 0

    @staticmethod
    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * MS


def pages() -> dict[str, str]:
    """Every page a visitor reaches, on the imported releases (call after the fill)."""
    from leaderboard.catalog.models import DatasetRelease
    from leaderboard.evals.models import EvaluationJob, LanguageModel

    dvb = DatasetRelease.objects.get(version="scale-divervalue")
    navab = DatasetRelease.objects.get(version="scale-navab")
    item = dvb.items.order_by("id").first()
    job = EvaluationJob.objects.filter(release=dvb).order_by("id").first()
    assert item is not None and job is not None
    # Two ranked models (an aligned one has no rankable job, and the page would compare
    # nothing), both among those with per-example results.
    model, other = (
        LanguageModel.objects.on_release(dvb).order_by("pk").values_list("pk", flat=True)[:2]
    )
    return {
        "dvb items": "/divervalue/items/",
        "dvb items filtered": "/divervalue/items/?region=East+Asia&gender=Female&split=test",
        "dvb items search": "/divervalue/items/?q=climate+policy",
        "navab items": "/navab/items/?nation=cn&mode=official",
        "item page": item.get_absolute_url(),
        "release card": dvb.get_absolute_url(),
        "navab release card": navab.get_absolute_url(),
        "navab board": "/navab/board/",
        "navab board us/aj": "/navab/board/?nation=us&mode=official&method=aj",
        "dvb board": "/divervalue/board/",
        "dvb board region": "/divervalue/board/?region=East+Asia&metric=margin",
        "map": "/divervalue/map/",
        "disparity": "/divervalue/disparity/",
        "model page": f"/models/{model}/",
        "compare": f"/divervalue/compare/?models={model}&models={other}",
        "navab compare": f"/navab/compare/?models={model}&models={other}",
        "navab agreement": "/navab/agreement/",
        "dvb agreement": "/divervalue/agreement/",
        "dvb judges": "/divervalue/judges/",
        "job page": f"/jobs/{job.pk}/",
    }


def fetch(port: int, path: str) -> tuple[float, int]:
    """Seconds to GET PATH (read to its end) and the bytes of its body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    began = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    size = 0
    while chunk := response.read(1 << 16):  # as a client reads a download: never all at once
        size += len(chunk)
    if response.status != 200:
        raise SystemExit(f"{path} answered {response.status}")
    conn.close()
    return time.perf_counter() - began, size


def get(port: int, path: str) -> float:
    return fetch(port, path)[0]


def count_queries(path: str) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from leaderboard.boards.cache import invalidate_boards

    Client().get(path)  # what a process does once (memos) is not the page's
    invalidate_boards()
    with CaptureQueriesContext(connection) as captured:
        Client().get(path)
    return len(captured.captured_queries)


def measure_pages(port: int, targets: dict[str, str], repeats: int) -> dict[str, PageTimes]:
    from django.core.cache import cache

    from leaderboard.boards.cache import invalidate_boards

    times = {label: PageTimes() for label in targets}
    for label, path in tqdm(targets.items(), desc="pages", file=sys.stderr):
        t = times[label]
        t.queries = count_queries(path)
        for _ in range(repeats):
            invalidate_boards()  # every cached board and response is stale
            cache.clear()
            t.cold.append(get(port, path))
            t.cold.append(get(port, path))  # the other worker's first request
            t.warm.append(get(port, path))
        for _ in range(repeats):
            t.warm.append(get(port, path))
    return times


def workers(server: subprocess.Popen[bytes]) -> list[psutil.Process]:
    return psutil.Process(server.pid).children()


def worker_rss(server: subprocess.Popen[bytes]) -> float:
    return sum(c.memory_info().rss for c in workers(server)) / 2**20


@dataclass
class DownloadGrowth:
    """The web workers' RSS growth (MiB) over a filtered Parquet download of most items, in
    workers that have each served one small Parquet download: memory that does not grow with
    the result grows by little."""

    #: each worker's growth over its first Parquet download, a small one (a CSV one grows it
    #: by 1 MiB), whatever its size: mostly pyarrow's code, file-backed pages the worker maps
    #: on first use (a forked process inherits no page-table entries for file mappings),
    #: shared with the master and every other worker; the rest, the writer's working set,
    #: later downloads reuse
    first_mib: list[float]
    #: the file-backed part of each
    first_shared_mib: list[float]
    small_bytes: int
    large_mib: float
    large_bytes: int
    #: over the same large download twice more (each worker's allocator holds what one
    #: download took: a second adds nothing where memory does not grow with the result)
    repeat_mib: float = 0.0


def _cpu_s(worker: psutil.Process) -> float:
    times = worker.cpu_times()
    return float(times.user + times.system)


def first_downloads(
    port: int, server: subprocess.Popen[bytes], path: str
) -> tuple[list[float], list[float], int]:
    """PATH fetched until every worker has served it once (the one that served a request is
    the one whose CPU time grew most; gunicorn gives a request to whichever worker accepts
    first): each worker's RSS growth over its first, the part of it that is file-backed
    (library code the worker touched first, shared with every process that maps it) and
    the download's bytes."""
    processes = workers(server)
    first: dict[int, tuple[float, float]] = {}
    size = 0
    for _ in range(20):
        cpu = {w.pid: _cpu_s(w) for w in processes}
        before = {w.pid: w.memory_info() for w in processes}
        size = fetch(port, path)[1]
        served = max(processes, key=lambda w: _cpu_s(w) - cpu[w.pid])
        if served.pid not in first:
            now, then = served.memory_info(), before[served.pid]
            first[served.pid] = ((now.rss - then.rss) / 2**20, (now.shared - then.shared) / 2**20)
        if len(first) == len(processes):
            break
    return [rss for rss, _ in first.values()], [shared for _, shared in first.values()], size


def download_growth(port: int, server: subprocess.Popen[bytes]) -> DownloadGrowth:
    path = "/divervalue/items/download.parquet?split="
    # one user: in every preset
    first, shared, small_bytes = first_downloads(port, server, path + "test&user_id=user00000")
    before = worker_rss(server)
    large_bytes = fetch(port, path + "train")[1]
    after = worker_rss(server)
    for _ in range(2):  # the other worker's, then one of theirs again
        fetch(port, path + "train")
    return DownloadGrowth(
        first, shared, small_bytes, after - before, large_bytes, worker_rss(server) - after
    )


def bytes_per_sample() -> tuple[float, int]:
    from django.db import connection

    from leaderboard.evals.models import JobItemValues, SampleResult

    rows = SampleResult.objects.count()
    size = 0.0
    # The rows and the per-item values packed beside them for rank spreads: both are what the
    # per-example results cost the database. Every ranked job has packed values here
    # (spread_values.py), most without rows: only the rows' jobs' share of them is counted.
    values = JobItemValues._meta.db_table
    samples = SampleResult._meta.db_table
    for table in (samples, values):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            else:
                cursor.execute(
                    "SELECT SUM(pgsize) FROM dbstat WHERE name = %s OR name IN "
                    "(SELECT name FROM sqlite_master WHERE tbl_name = %s)",
                    [table, table],
                )
            found = cursor.fetchone()[0] or 0
            if table == values:
                row = "pg_column_size(v.*)" if connection.vendor == "postgresql" else (
                    'length(v.items) + length(v."values")'
                )  # fmt: skip
                cursor.execute(
                    f"SELECT SUM(CASE WHEN v.job_id IN (SELECT DISTINCT job_id FROM {samples}) "
                    f"THEN {row} ELSE 0 END), SUM({row}) FROM {values} v"
                )
                held, every = cursor.fetchone()
                found = found * (held or 0) / every if every else 0
            size += found
    return size / max(rows, 1), rows


# --- per-example rows: bytes a row and what 200 models on both full releases take --------------

NAVAB_METHODS = ("mc", "aj", "aj_ref")
DVB_METHODS = ("opa", "paa")
PROJECTED_MODELS = 200
NAVAB_FULL_ITEMS = 63000  # the hub's NaVAB, as FULL writes it


@dataclass
class SampleRows:
    """Bytes a per-example row takes: in the database (table, indexes and TOAST) over every
    row, and in the job files per benchmark; and the rows a model has on each full release."""

    db_bytes: float
    rows: int
    file_bytes: dict[str, float]
    per_model: dict[str, int]

    def projected(self, slug: str) -> tuple[float, float]:
        """(database GB, files GB) for PROJECTED_MODELS models on SLUG's full release."""
        rows = self.per_model[slug] * PROJECTED_MODELS
        return rows * self.db_bytes / 1e9, rows * self.file_bytes[slug] / 1e9


def sample_rows(jobs_a_benchmark: int) -> SampleRows:
    """Per-example rows as a full run stores them, for JOBS_A_BENCHMARK jobs of each release:
    NaVAB MC, AJ and aj_ref on every item; DiverValue-Bench OPA and PAA on DVB-test (those
    jobs' OPA-only rows from `fill` replaced). Then bytes a row (`bytes_per_sample`)."""
    from leaderboard.catalog.models import DatasetRelease
    from leaderboard.evals import sample_details
    from leaderboard.evals.models import EvaluationJob, JobStatus, SampleResult

    per_model: dict[str, int] = {}
    file_bytes: dict[str, float] = {}
    for slug, version, methods, split in (
        ("navab", "scale-navab", NAVAB_METHODS, None),
        ("divervalue", "scale-divervalue", DVB_METHODS, "test"),
    ):
        release = DatasetRelease.objects.get(version=version)
        items = release.items.filter(data__split=split) if split else release.items.all()
        pairs = list(items.order_by("id").values_list("id", "uid"))
        jobs = list(
            EvaluationJob.objects.filter(release=release, status=JobStatus.FINISHED).order_by("id")[
                :jobs_a_benchmark
            ]
        )
        SampleResult.objects.filter(job__in=jobs).delete()
        written = board_data.fill_samples(jobs, pairs, methods)
        # Their packed values as the boards' rank spreads need them again (see spread_values).
        spread_values.give_values(slug, [job.pk for job in jobs], 0, len(jobs))
        files = sum(sample_details.job_path(job.pk).stat().st_size for job in jobs)
        file_bytes[slug] = files / max(written, 1)
        # The full release's rows a model: FULL's NaVAB size even on a --small run.
        full = NAVAB_FULL_ITEMS if slug == "navab" else len(pairs)
        per_model[slug] = full * len(methods)
    row, rows = bytes_per_sample()
    return SampleRows(row, rows, file_bytes, per_model)


def report_sample_rows(samples: SampleRows, database: str) -> None:
    """What 200 models on both full releases take, in the database and in job files."""
    print(f"\nper-example results, {PROJECTED_MODELS} models, {database}:")
    total_db = total_files = 0.0
    for slug in ("navab", "divervalue"):
        db, files = samples.projected(slug)
        total_db, total_files = total_db + db, total_files + files
        print(
            f"  {slug:<12}{samples.per_model[slug]:>9,} rows a model; database "
            f"{samples.db_bytes:.0f} B a row = {db:.2f} GB; job files "
            f"{samples.file_bytes[slug]:.0f} B a row = {files:.2f} GB"
        )
    print(f"  {'both':<12}database {total_db:.2f} GB, job files {total_files:.2f} GB")


# --- a kept state: import and first fill done once, pages timed again from it ----------------

KEPT_FIGURES = "figures.json"
KEPT_DATABASE = "database"


def _database_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def database_exists(url: str) -> bool:
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [_database_name(url)])
        return found.fetchone() is not None


def _admin_execute(url: str, sql: str) -> None:
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql)


def keep_state(
    keep: Path, var_dir: Path, db_url: str, imported: dict[str, Imported], small: bool
) -> None:
    """Save the run's state into KEEP (after the import, the first fill and the sample rows):
    the media folder (and a SQLite database in it) and the import's figures; a PostgreSQL database
    is copied as a template database (CREATE DATABASE ... TEMPLATE), which needs it idle."""
    from django.db import connections

    connections.close_all()
    shutil.copytree(var_dir, keep, ignore=shutil.ignore_patterns("data"))
    if db_url.startswith("postgres"):
        kept = f"{_database_name(db_url)}_kept"
        _admin_execute(db_url, f'CREATE DATABASE "{kept}" TEMPLATE "{_database_name(db_url)}"')
        (keep / KEPT_DATABASE).write_text(kept, encoding="utf-8")
    figures = {
        "small": small,
        "imported": {slug: vars(i) for slug, i in imported.items()},
    }
    (keep / KEPT_FIGURES).write_text(json.dumps(figures), encoding="utf-8")
    drop = f'; drop its database with DROP DATABASE "{kept}"' if db_url.startswith("pos") else ""
    print(f"kept the imported, filled state in {keep}{drop}", flush=True)


def reuse_state(reuse: Path, var_dir: Path, db_url: str, small: bool) -> dict[str, Imported]:
    """Start from a state `keep_state` saved: its files copied into VAR_DIR, its database
    cloned into the run's (PostgreSQL) or copied with the files (SQLite); its import's
    figures (the per-example rows are written again: `rewrite_samples`)."""
    figures = json.loads((reuse / KEPT_FIGURES).read_text(encoding="utf-8"))
    if figures["small"] != small:
        raise SystemExit(f"{reuse} was kept by a {'--small' if figures['small'] else 'full'} run")
    shutil.copytree(reuse, var_dir, dirs_exist_ok=True)
    if db_url.startswith("postgres"):
        if not (reuse / KEPT_DATABASE).is_file():
            raise SystemExit(f"{reuse} was kept by a SQLite run")
        kept = (reuse / KEPT_DATABASE).read_text(encoding="utf-8").strip()
        _admin_execute(db_url, f'DROP DATABASE "{_database_name(db_url)}"')
        _admin_execute(db_url, f'CREATE DATABASE "{_database_name(db_url)}" TEMPLATE "{kept}"')
    elif not (var_dir / "scale.sqlite3").is_file():
        raise SystemExit(f"{reuse} was kept by a PostgreSQL run")
    return {slug: Imported(**i) for slug, i in figures["imported"].items()}


def rewrite_samples(sample_models: int) -> None:
    """A kept state's per-example rows written again as this code writes them (`fill`'s, then
    `sample_rows` measures): the kept rows were written by the code that kept the state and
    copied by any migration since, which packs them otherwise (0018 copies them in its key's
    order, denser than rows stored job by job), so their bytes a row would not be this code's."""
    from django.core.management.color import no_style
    from django.db import connection

    from leaderboard.catalog.models import DatasetRelease
    from leaderboard.evals.models import EvaluationJob, JobStatus, SampleResult

    with connection.cursor() as cursor:
        for sql in connection.ops.sql_flush(no_style(), [SampleResult._meta.db_table]):
            cursor.execute(sql)
    dvb = DatasetRelease.objects.get(version="scale-divervalue")
    test_items = list(dvb.items.filter(data__split="test").values_list("id", "uid"))
    jobs = EvaluationJob.objects.filter(release=dvb, status=JobStatus.FINISHED).order_by("id")
    sampled = list(jobs[:sample_models])
    for chunk in tqdm(range(0, len(sampled), 50), desc="rewrite samples", file=sys.stderr):
        board_data.fill_samples(sampled[chunk : chunk + 50], test_items, ("opa",))
    spread_values.give_all()  # the rows' packed values replaced theirs


def start_redis(var_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A redis-server of the run's own for the web workers' shared cache (production's
    CACHE_URL): clearing it between cold requests touches no one else's data."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(var_dir)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return server, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("redis-server did not answer within 20 s")


# --- the run ----------------------------------------------------------------------------------


def fill(count: int, start: int, sample_models: int) -> None:
    """COUNT more models with jobs and scores on both releases, and per-example results on
    DVB-test for those among the first SAMPLE_MODELS (every model by default: a board draws
    its rank spread only when each ranked model has them, so at 1,000 models with 200 sampled
    the DiverValue-Bench boards drew none, and timed less than they cost; about 0.12 s a
    model)."""
    from leaderboard.boards.cache import invalidate_boards
    from leaderboard.catalog.models import DatasetRelease

    dvb = DatasetRelease.objects.get(version="scale-divervalue")
    navab = DatasetRelease.objects.get(version="scale-navab")
    test_items = list(dvb.items.filter(data__split="test").values_list("id", "uid"))
    models = board_data.make_models(count, start)
    newest: dict[str, list[int]] = {"navab": [], "divervalue": []}
    for chunk in tqdm(range(0, len(models), 50), desc=f"fill {count} models", file=sys.stderr):
        part = models[chunk : chunk + 50]
        newest["navab"] += [job.pk for job in board_data.fill_navab(part, navab)]
        jobs = board_data.fill_dvb(part, dvb)
        newest["divervalue"] += [job.pk for job in jobs]
        sampled = max(0, min(len(jobs), sample_models - start - chunk))
        board_data.fill_samples(jobs[:sampled], test_items, ("opa",))
    for slug, ranked in newest.items():
        spread_values.give_values(slug, ranked, start, start + count)
    invalidate_boards()


def analyze() -> None:
    """The planner's statistics of every table taken after the fill's bulk writes, and (on
    PostgreSQL) their tables vacuumed, as autovacuum does within a minute of such writes on a
    live site (since PostgreSQL 13 for tables only inserted into too). Timed at once, pages
    were planned on the counts of an empty database (a board's scores read by a sequential
    scan of every model's, 35 ms instead of 6 at 1,000 models), and a read answered from an
    index alone visited every row still (the visibility map a vacuum sets). The vacuum's
    writes are flushed (CHECKPOINT) before pages are timed, as long since on a live site."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("CHECKPOINT")
        else:
            cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/navab_scale")
    parser.add_argument("--small", action="store_true", help="a tiny run, for the test")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--import-only", action="store_true", help="generate and import the releases, no pages"
    )
    parser.add_argument(
        "--sample-models",
        type=int,
        default=max(FULL.models),
        help="models with per-example results on DVB-test (default: every model)",
    )
    parser.add_argument(
        "--cache-url", help="the web workers' Redis cache (default: a redis-server of its own)"
    )
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--keep", type=Path, help="save the imported, filled state in this folder")
    kept.add_argument("--reuse", type=Path, help="start from a state --keep saved")
    args = parser.parse_args()
    preset = SMALL if args.small else FULL
    if args.keep is not None and args.keep.exists():
        raise SystemExit(f"{args.keep} exists: --keep writes a new folder")
    if args.reuse is not None and not (args.reuse / KEPT_FIGURES).is_file():
        raise SystemExit(f"{args.reuse} holds no state kept by --keep")

    if args.database == "postgresql":
        if args.keep is not None and database_exists(f"{args.db_url}_kept"):
            raise SystemExit(f"database {_database_name(args.db_url)}_kept exists: another "
                             "run kept it; drop it or name another --db-url")  # fmt: skip
        create_database(args.db_url)  # first: a run refused its database leaves nothing behind
    var_dir = Path(tempfile.mkdtemp(prefix="navab-scale-"))
    db_url = args.db_url if args.database == "postgresql" else f"sqlite:///{var_dir}/scale.sqlite3"
    redis: subprocess.Popen[bytes] | None = None
    if args.cache_url is None:
        redis, cache_url = start_redis(var_dir)
    else:
        cache_url = args.cache_url
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leaderboard.settings",
        "DATABASE_URL": db_url,
        "DB_CONN_MAX_AGE": "60",
        "DEBUG": "0",
        "NAVAB_VAR_DIR": str(var_dir),
        "CACHE_URL": cache_url,
        "BOARD_VERSION_MEMO_MS": "0",  # a cold request is cold in every worker
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update(env)
    print(f"database {_database_name(db_url)} (fresh); temporary folder {var_dir}", flush=True)
    print(f"cache {cache_url}; load average at start: {os.getloadavg()}", flush=True)
    signal.signal(signal.SIGTERM, _interrupted)
    server: subprocess.Popen[bytes] | None = None
    ok = False
    try:
        import django
        from django.core.management import call_command

        if args.reuse is not None:
            imported = reuse_state(args.reuse, var_dir, db_url, args.small)
        django.setup()
        call_command("migrate", verbosity=0)
        if args.reuse is not None:
            rewrite_samples(min(args.sample_models, preset.models[0]))
        if args.reuse is None:
            write_divervalue(var_dir / "data" / "dvb", preset)
            write_navab(var_dir / "data" / "NaVAB", preset)
            imported = import_both(var_dir / "data", env)
            if args.import_only:
                import_only(args, imported)
                ok = True
                return
        results: dict[int, dict[str, PageTimes]] = {}
        draws: dict[int, spread_values.Drawn] = {}
        filled = preset.models[0] if args.reuse is not None else 0
        for count in preset.models:
            if count > filled:
                fill(count - filled, filled, args.sample_models)
                filled = count
            if server is None:
                samples = sample_rows(1 if args.small else 2)
                if args.keep is not None:
                    keep_state(args.keep, var_dir, db_url, imported, args.small)
                server, first_ms = start_server(args.port, env)
                growth = download_growth(args.port, server)
            analyze()
            draws[count] = spread_values.time_draws()
            analyze()  # the draws' writes too (autovacuum's work during the timings, otherwise)
            results[count] = measure_pages(args.port, pages(), preset.repeats)
            print_pages(count, results[count])  # a run cut short still leaves these
        report(args, preset, imported, results, samples, first_ms, growth)
        report_draws(draws)
        ok = True
    except KeyboardInterrupt:
        print("interrupted: removing what this run created", file=sys.stderr, flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for process in (server, redis):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if args.database == "postgresql":
            drop_database(db_url)
        shutil.rmtree(var_dir, ignore_errors=True)
        print("removed: server, cache, temporary folder, database", flush=True)
    if not ok:
        raise SystemExit(130)


def start_server(port: int, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], float]:
    """gunicorn as production runs it, and its first page request (ms) once it listens."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "leaderboard.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4", "--worker-class", "gthread", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    wait_until_up(port, "/static/css/site.css", server, timeout=120)
    return server, get(port, "/divervalue/items/") * MS


def print_pages(models: int, times: dict[str, PageTimes]) -> None:
    print(f"\npages at {models} models (ms), load average {os.getloadavg()}:", flush=True)
    for label, t in times.items():
        print(f"  {label:<22}{t.queries:>4} queries, warm p50 {t.pct(t.warm, 0.5):.0f} "
              f"p95 {t.pct(t.warm, 0.95):.0f}, cold p50 {t.pct(t.cold, 0.5):.0f} "
              f"p95 {t.pct(t.cold, 0.95):.0f}", flush=True)  # fmt: skip


def report(
    args: argparse.Namespace,
    preset: Preset,
    imported: dict[str, Imported],
    results: dict[int, dict[str, PageTimes]],
    samples: SampleRows,
    first_ms: float,
    growth: DownloadGrowth,
) -> None:
    few, many = preset.models
    print(
        f"\n{args.database}, gunicorn 2 workers x 4 threads, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()}; {preset.repeats} cold and {2 * preset.repeats} warm "
        "requests a page"
    )

    def line(text: str, value: str, goal: str, ok: bool) -> None:
        print(f"  {text:<44}{value:>12}  {goal:<14}{'pass' if ok else 'FAIL'}")

    cold_goal = GOALS["cold"] if args.database == "postgresql" else 2000.0
    warm_goal = GOALS["warm"] if args.database == "postgresql" else 2000.0

    def ratio(label: str, kind: str) -> float:
        """Time at the most models over time at the fewest, at p50 of KIND (warm: a cached
        response; cold: the page built from the database, what grows with models)."""
        at_many = getattr(results[many][label], kind)
        return PageTimes.pct(at_many, 0.5) / max(
            PageTimes.pct(getattr(results[few][label], kind), 0.5), 1e-6
        )

    head = f"{'page':<22}{'queries':>8}{'warm p50':>10}{'warm p95':>10}{'cold p50':>10}"
    print(
        f"\n{head}{'cold p95':>10}{'warm x':>8}{'cold x':>8}  (ms, {few} models; x: {many}/{few})"
    )
    for label, t in results[few].items():
        print(
            f"{label:<22}{t.queries:>8}{t.pct(t.warm, 0.5):>10.0f}{t.pct(t.warm, 0.95):>10.0f}"
            f"{t.pct(t.cold, 0.5):>10.0f}{t.pct(t.cold, 0.95):>10.0f}"
            f"{ratio(label, 'warm'):>8.2f}{ratio(label, 'cold'):>8.2f}"
        )
    print("\ngoals:")
    for label, t in results[few].items():
        line(f"{label}: warm p95", f"{t.pct(t.warm, 0.95):.0f} ms", f"<= {warm_goal:.0f} ms",
             t.pct(t.warm, 0.95) <= warm_goal)  # fmt: skip
        for models, times in ((few, t), (many, results[many][label])):
            cold = times.pct(times.cold, 0.95)
            line(f"{label}: cold p95, {models} models", f"{cold:.0f} ms",
                 f"<= {cold_goal:.0f} ms", cold <= cold_goal)  # fmt: skip
        grown = results[many][label].queries
        line(f"{label}: queries {few} -> {many} models", f"{t.queries} -> {grown}", "same",
             grown == t.queries)  # fmt: skip
        for kind in ("warm", "cold"):
            times = ratio(label, kind)
            line(f"{label}: {kind} time {many}/{few} models", f"{times:.2f}x",
                 f"<= {GOALS['ratio']}x", times <= GOALS["ratio"])  # fmt: skip
    if args.reuse is not None:
        print(f"  (import figures: the run that kept {args.reuse})")
    report_import(imported)
    line(f"bytes per per-example row ({samples.rows} rows)", f"{samples.db_bytes:.0f} B",
         f"<= {GOALS['row']:.0f} B", samples.db_bytes <= GOALS["row"])  # fmt: skip
    mb = 1e6
    line(f"parquet download of {growth.large_bytes / mb:.1f} MB: workers' RSS growth",
         f"{growth.large_mib:.0f} MiB", "<= 20 MiB", growth.large_mib <= 20)  # fmt: skip
    firsts = " and ".join(
        f"{mib:.0f} MiB ({shared:.0f} of it library code, file-backed, shared between processes)"
        for mib, shared in zip(growth.first_mib, growth.first_shared_mib, strict=True)
    )
    print(f"    (after each worker's first Parquet download, of {growth.small_bytes / mb:.2f} MB, "
          f"which grew it once by {firsts}; "
          f"{growth.repeat_mib:.0f} MiB over the large one twice more)")  # fmt: skip
    line("first request after start-up", f"{first_ms:.0f} ms", "<= 1000 ms", first_ms <= 1000)
    report_sample_rows(samples, args.database)


def report_draws(draws: dict[int, spread_values.Drawn]) -> None:
    """What the boards' rank replicates cost to draw, which no page timed above pays: the
    pages read them stored, and the ranges their draws gave (a cold request above follows a
    change that leaves the ranked jobs as they were; after a publish they are ranked again)."""
    print("\nrank replicates (each ranked job's scores under 1,000 bootstrap replicates):")
    for models, drawn in draws.items():
        for slug, every in drawn.every_s.items():
            print(f"  {slug}, {models} models: every job's drawn on the first view after the "
                  f"fill {every:.1f} s; one job's when it is published "
                  f"{drawn.one_job_s[slug] * 1000:.0f} ms; the cold default board after a "
                  f"publish (every job's read and ranked again) "
                  f"{drawn.ranked_again_s[slug] * 1000:.0f} ms in process")  # fmt: skip


if __name__ == "__main__":
    main()
