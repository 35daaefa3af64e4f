"""Values every page's layout needs: the site name, the navigation, the benchmark the page is
about (or the first registered one) and that benchmark's current release."""

from __future__ import annotations

from typing import Any, NamedTuple

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

from evaluation.benchmarks import benchmark_slugs, get_benchmark
from leaderboard.catalog.models import DatasetRelease


class NavLink(NamedTuple):
    label: str
    url: str
    active: bool


# (label, URL name, whether the URL is below a benchmark). Home is matched exactly; the others
# own every path below their URL.
NAVIGATION = (
    ("Home", "home", False),
    ("Leaderboard", "board", True),
    ("Items", "browse", True),
    ("Releases", "release-list", True),
    ("Queue", "queue", False),
    ("Submit", "submit", False),
    ("Methodology", "methodology", True),
    ("API", "api-docs", False),
)


def page_benchmark(request: HttpRequest) -> str:
    """The slug of the benchmark the page belongs to, else the first registered one."""
    match = getattr(request, "resolver_match", None)
    slug = match.kwargs.get("benchmark") if match is not None else None
    return str(slug) if slug else benchmark_slugs()[0]


def navigation(path: str, benchmark: str) -> list[NavLink]:
    links = []
    for label, name, scoped in NAVIGATION:
        try:
            url = reverse(name, args=[benchmark] if scoped else [])
        except NoReverseMatch:
            # An app that is not installed (or not finished) must not break every page.
            continue
        active = path == url if url == "/" else path.startswith(url)
        links.append(NavLink(label, url, active))
    return links


def _current_release(benchmark: str) -> DatasetRelease | None:
    releases = DatasetRelease.objects.filter(benchmark__slug=benchmark)
    return releases.select_related("benchmark").current()


def _demo_releases() -> list[DatasetRelease]:
    """Each benchmark's current release where it is demo data: two queries whatever the
    number of benchmarks (the newest published release's id per benchmark, then those)."""
    registered = benchmark_slugs()
    newest: dict[str, int] = {}
    for pk, slug in (
        DatasetRelease.objects.published()
        .filter(benchmark__slug__in=registered)
        .order_by("-published_at", "-id")
        .values_list("id", "benchmark__slug")
    ):
        newest.setdefault(slug, pk)
    found = {
        r.benchmark.slug: r
        for r in DatasetRelease.objects.filter(pk__in=newest.values(), is_demo=True).select_related(
            "benchmark"
        )
    }
    return [found[slug] for slug in registered if slug in found]


def site(request: HttpRequest) -> dict[str, Any]:
    slug = page_benchmark(request)
    match = getattr(request, "resolver_match", None)
    scoped = match is not None and bool(match.kwargs.get("benchmark"))
    return {
        "SITE_NAME": settings.SITE_NAME,
        "nav_links": navigation(request.path, slug),
        "nav_benchmark": get_benchmark(slug),
        # A page below /<benchmark>/ is about that benchmark; any other (home, queue, a job)
        # is about every benchmark, so its banner and citation name each, not the first.
        "page_scoped": scoped,
        "page_benchmarks": [get_benchmark(s) for s in ([slug] if scoped else benchmark_slugs())],
        # Lazy, so a page that passes its own `current_release` does not query it twice.
        "current_release": SimpleLazyObject(lambda: _current_release(slug)),
        "demo_releases": SimpleLazyObject(_demo_releases),
    }
