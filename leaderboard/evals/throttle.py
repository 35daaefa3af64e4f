"""A per-user request throttle for the submission form (cache-based, fixed window)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

POSTS_PER_MINUTE = 10


def submission_throttle(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse bursts of form posts before any model check runs (those are costly)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.method == "POST" and request.user.is_authenticated:
            key = f"submit-posts:{request.user.pk}"
            cache.add(key, 0, timeout=60)
            if cache.incr(key) > POSTS_PER_MINUTE:
                return HttpResponse(
                    "Too many submission attempts; wait a minute and try again.", status=429
                )
        return view(request, *args, **kwargs)

    return wrapped
