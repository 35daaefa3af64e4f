"""What a web process does once, at start-up, so that no visitor's request pays for it.

Django imports a view module the first time a URL resolves to it, builds the URL resolver's
reverse table the first time a view calls `reverse` (0.1 s), compiles a template the first
time it renders (the cached loader keeps it after that); plotly is imported, loads its 3 MB
table of property validators and imports each trace type the first time a chart is drawn
(0.3 s); pyarrow is imported the first time a Parquet download needs it; and the item browser
counts the current release's items per slice cell (0.1-0.3 s on a full release) the first
time a process shows it. Seconds in all, paid by the first visitor of each worker.
`leaderboard.wsgi` calls `warm_up()` once the application is built (with gunicorn's
`preload_app`, gunicorn.conf.py, in the master, so every forked worker starts warm).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import importlib
import logging
import os
from pathlib import Path

from django.apps import apps
from django.db import DatabaseError, connections
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.template.backends.django import DjangoTemplates
from django.urls import URLPattern, URLResolver, get_resolver

log = logging.getLogger(__name__)

#: glibc's mallopt parameter: the most malloc arenas a process creates
M_ARENA_MAX = -8
#: heavy libraries a page imports lazily (charts, downloads)
LIBRARIES = ("plotly.graph_objects", "plotly.io", "pyarrow", "pyarrow.parquet")
#: every plotly trace type the site's charts draw (tests/test_warmup.py checks the list)
TRACES = ("Bar", "Choropleth", "Heatmap", "Scatter", "Scatterpolar")
#: the collector's thresholds in a web process: a young collection every 50,000 objects, not
#: 700. A cold 1,000-model board allocates some hundreds of thousands of objects that live
#: until its response is sent; at the default the collector ran 78 times inside that one
#: request, walking its rows again each time (8 ms of 147). Most of them are freed by their
#: counts when the request ends, before any collection sees them.
GC_THRESHOLDS = (50_000, 20, 10)


def _import_views(patterns: list[URLPattern | URLResolver]) -> int:
    """Touch every pattern's callback (a resolver's `url_patterns` imports its module)."""
    count = 0
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            count += _import_views(pattern.url_patterns)
        else:
            _ = pattern.callback
            count += 1
    return count


def _template_names() -> list[str]:
    """Every project and app template, by the name views load it with."""
    engine = engines["django"]
    assert isinstance(engine, DjangoTemplates)
    roots = [Path(d) for d in engine.engine.dirs]
    roots += [Path(app.path) / "templates" for app in apps.get_app_configs()]
    names: set[str] = set()
    for root in roots:
        if root.is_dir():
            names.update(str(p.relative_to(root)) for p in root.rglob("*.html"))
    return sorted(names)


def _compile_templates() -> int:
    engine = engines["django"]
    compiled = 0
    for name in _template_names():
        try:
            engine.get_template(name)
            compiled += 1
        except (TemplateDoesNotExist, TemplateSyntaxError):  # a partial of another engine
            continue
    return compiled


def _write_parquet() -> None:
    """A one-row Parquet file, thrown away: the writer's first use sets up pyarrow's memory
    pool and touches its code (some 50 MB), which forked workers then share instead of each
    paying for it on its first download."""
    from leaderboard.catalog.exports import parquet_chunks

    for _ in parquet_chunks([("",)], ("warm-up",)):
        pass


def _draw_chart() -> None:
    """A figure of every trace type the site draws, serialized as the charts are: plotly's
    validator table is loaded and each trace's module imported here, not on a first chart,
    and the template and colour scale a board's plain figures copy from plotly are taken."""
    import plotly.graph_objects as go

    from leaderboard.boards.figures import as_script, colorscale, figure_of

    figure = go.Figure([getattr(go, trace)() for trace in TRACES])
    figure.update_layout(geo={"showframe": False}, polar={"radialaxis": {"range": [0, 1]}})
    as_script(figure, "warm-up")
    as_script(figure_of([{"colorscale": colorscale("Viridis")}], {}), "warm-up")


def _count_current_releases() -> int:
    """Each benchmark's current release's items per slice cell, which the item browser, the
    release card and the boards' filters read: kept in this process (so in the workers forked
    from it) and in the shared cache. Skipped, with a warning, where the database cannot
    answer (not migrated yet): the first request counts them then, as it would anyway."""
    from evaluation.benchmarks import benchmark_slugs
    from leaderboard.catalog.counts import count_table, slice_values
    from leaderboard.catalog.views.pages import current_release

    counted = 0
    try:
        for slug in benchmark_slugs():
            release = current_release(slug)
            if release is not None:
                slice_values(release)
                count_table(release)
                counted += 1
    except DatabaseError as exc:
        log.warning("warm-up: releases not counted (%s)", exc)
    return counted


def _bound_allocators() -> None:
    """Memory a request frees goes back to one pool that every later request reuses.

    Arrow allocates from the C library's malloc, not its default mimalloc pool, which kept
    some 12 MiB of a worker's first download of a full release's split; and malloc keeps one
    arena for all threads instead of one per thread (gunicorn's gthread workers serve each
    request on one of their threads): each thread's first download grew an arena of its own
    by the writer's working set, 15 MiB more per thread. Both are read when first needed, so
    this runs before anything allocates through them; an operator's own
    ARROW_DEFAULT_MEMORY_POOL stands."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    libc = ctypes.util.find_library("c")
    mallopt = getattr(ctypes.CDLL(libc), "mallopt", None) if libc else None
    if mallopt is not None:  # glibc; elsewhere the allocator is left as it is
        mallopt(M_ARENA_MAX, 1)


def warm_up() -> None:
    _bound_allocators()
    views = _import_views(get_resolver().url_patterns)
    # the reverse table of the active language, the one requests use (no LocaleMiddleware)
    get_resolver().reverse_dict  # noqa: B018
    for name in LIBRARIES:
        importlib.import_module(name)
    _write_parquet()
    _draw_chart()
    templates = _compile_templates()
    releases = _count_current_releases()
    # A connection opened here would be shared by the workers gunicorn forks from this
    # process; each must open its own.
    connections.close_all()
    # What is built by now lives as long as the process (some 260,000 objects with plotly's
    # validators): left to the collector, its first full collection walks them all (0.4 s)
    # in the middle of a visitor's request, and in a forked worker writes into each
    # object's header, copying the pages it shares with the master. Frozen, no collection
    # looks at them again.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    log.info("warmed up: %d views, %d templates, %d releases counted", views, templates, releases)
