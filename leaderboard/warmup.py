"""What a web process does once, at start-up, so that no visitor's request pays for it.

Django imports a view module the first time a URL resolves to it, compiles a template the
first time it renders (the cached loader keeps it after that) and imports plotly and pyarrow
the first time a chart or a Parquet download needs them: seconds in all, paid by the first
visitor of each worker. `leaderboard.wsgi` calls `warm_up()` once the application is built
(with gunicorn's `preload_app`, gunicorn.conf.py, in the master, so every forked worker starts
warm).
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from django.apps import apps
from django.db import connections
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.template.backends.django import DjangoTemplates
from django.urls import URLPattern, URLResolver, get_resolver

log = logging.getLogger(__name__)

#: heavy libraries a page imports lazily (charts, downloads)
LIBRARIES = ("plotly.graph_objects", "plotly.io", "pyarrow", "pyarrow.parquet")


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


def warm_up() -> None:
    views = _import_views(get_resolver().url_patterns)
    for name in LIBRARIES:
        importlib.import_module(name)
    _write_parquet()
    templates = _compile_templates()
    # A connection opened here would be shared by the workers gunicorn forks from this
    # process; each must open its own.
    connections.close_all()
    log.info("warmed up: %d views, %d templates", views, templates)
