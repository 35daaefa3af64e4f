"""Values every page's layout needs: the site name, the navigation and the current release."""

from __future__ import annotations

from typing import Any, NamedTuple

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

from leaderboard.benchmark.citation import NAVAB_PAPER_URL
from leaderboard.benchmark.models import DatasetRelease


class NavLink(NamedTuple):
    label: str
    url: str
    active: bool


# (label, URL name). Home is matched exactly; the others own every path below their URL.
NAVIGATION = (
    ("Home", "home"),
    ("Leaderboard", "board"),
    ("Triples", "browse"),
    ("Releases", "release-list"),
    ("Queue", "queue"),
    ("Submit", "submit"),
    ("Methodology", "methodology"),
    ("API", "api-docs"),
)


def navigation(path: str) -> list[NavLink]:
    links = []
    for label, name in NAVIGATION:
        try:
            url = reverse(name)
        except NoReverseMatch:
            # An app that is not installed (or not finished) must not break every page.
            continue
        active = path == url if url == "/" else path.startswith(url)
        links.append(NavLink(label, url, active))
    return links


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "SITE_NAME": settings.SITE_NAME,
        "nav_links": navigation(request.path),
        "NAVAB_PAPER_URL": NAVAB_PAPER_URL,
        # Lazy, so a page that passes its own `current_release` does not query it twice.
        "current_release": SimpleLazyObject(DatasetRelease.objects.current),
    }
