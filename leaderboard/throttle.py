"""Fixed-window throttles for form posts (cache-based), keyed by user or by client address."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def by_user(request: HttpRequest) -> str | None:
    return str(request.user.pk) if request.user.is_authenticated else None


def by_address(request: HttpRequest) -> str:
    # Behind a reverse proxy, configure it to set REMOTE_ADDR (e.g. gunicorn's
    # --forwarded-allow-ips with a proxy-protocol/real-IP setup), or every client looks alike.
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def post_throttle(
    scope: str, limit: int, window_s: int, key: Callable[[HttpRequest], str | None], message: str
) -> Callable[[View], View]:
    """Refuse more than LIMIT posts per WINDOW_S seconds per key, before the view does work."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            who = key(request) if request.method == "POST" else None
            if who is not None:
                counter = f"throttle:{scope}:{who}"
                cache.add(counter, 0, timeout=window_s)
                if cache.incr(counter) > limit:
                    return HttpResponse(message, status=429)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


# Model checks are costly: refuse bursts of submission attempts.
submission_throttle = post_throttle(
    "submit", 10, 60, by_user, "Too many submission attempts; wait a minute and try again."
)
# New accounts would multiply the per-user submission limit: a few per address per hour.
# Only accounts actually created count, so typos in the form never lock anyone out.
SIGNUPS_PER_HOUR = 5


def signups_exhausted(request: HttpRequest) -> bool:
    return int(cache.get(f"throttle:signup:{by_address(request)}", 0)) >= SIGNUPS_PER_HOUR


def count_signup(request: HttpRequest) -> None:
    counter = f"throttle:signup:{by_address(request)}"
    cache.add(counter, 0, timeout=3600)
    cache.incr(counter)
