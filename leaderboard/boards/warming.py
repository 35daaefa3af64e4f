"""Rebuild what a change made stale before anyone asks for it.

Every anonymous rendering built on a request is remembered (its scheme, host, path and query,
the newest few dozen) in the shared cache. When results, models or releases change, the
`warm_boards` task (tasks.py) renders each remembered request again for the new board
version, so the first visitor after a change reads a cached response instead of waiting for
a board build.

The task's renderings reach web processes through the shared cache: with `CACHE_URL` unset
(one local memory per process) the worker warms only itself, and each web process builds on
its first request after a change, as it would without warming.
"""

from __future__ import annotations

import logging
import time

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import Http404, HttpRequest
from django.test import RequestFactory
from django.urls import Resolver404, resolve

from leaderboard.boards import cache as board_cache

log = logging.getLogger(__name__)

HOT_KEY = "boards|hot"
HOT_MAX = 40
HOT_TIMEOUT_S = 7 * 24 * 3600


def remember(request: HttpRequest) -> None:
    """Note a request whose rendering was just built (only builds: rare, once per version)."""
    entry = (request.scheme or "http", request.get_host(), request.get_full_path())
    hot: dict[tuple[str, str, str], float] = cache.get(HOT_KEY) or {}
    hot[entry] = time.time()
    newest = sorted(hot.items(), key=lambda item: item[1], reverse=True)[:HOT_MAX]
    cache.set(HOT_KEY, dict(newest), HOT_TIMEOUT_S)


def remembered() -> list[tuple[str, str, str]]:
    hot: dict[tuple[str, str, str], float] = cache.get(HOT_KEY) or {}
    return [entry for entry, _ in sorted(hot.items(), key=lambda item: item[1], reverse=True)]


def render(scheme: str, host: str, full_path: str) -> int:
    """Render one remembered request as an anonymous visitor would; its status code."""
    request = RequestFactory().get(
        full_path,
        secure=scheme == "https",
        HTTP_HOST=host,
        # Not a client address: the API's per-address throttle must not count the warmer
        # against a real visitor.
        REMOTE_ADDR="0.0.0.0",
    )
    request.user = AnonymousUser()
    match = resolve(request.path_info)
    request.resolver_match = match
    response = match.func(request, *match.args, **match.kwargs)
    return int(response.status_code)


def warm() -> dict[str, int]:
    """Render every remembered request for the current board version."""
    done = {"rendered": 0, "gone": 0, "failed": 0}
    # This process may remember the version from before the change: render for the new one.
    board_cache.forget_board_version()
    for scheme, host, full_path in remembered():
        try:
            status = render(scheme, host, full_path)
        except (Http404, Resolver404):
            status = 404
        except Exception:  # one broken page must not keep the others cold
            log.exception("warming %s failed", full_path)
            done["failed"] += 1
            continue
        done["rendered" if status == 200 else "gone"] += 1
        if status != 200:
            log.info("warming %s answered %s; not cached", full_path, status)
    return done
