"""Permanent redirects from the URLs the site had before it hosted several benchmarks: they
all meant NaVAB's pages, and links to them (papers, bookmarks, shared boards) keep working."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.urls import URLPattern, path, reverse

from leaderboard.catalog.models import DatasetRelease
from leaderboard.catalog.scoping import LEGACY_BENCHMARK


def _to(name: str) -> Any:
    def redirect(request: HttpRequest, **kwargs: str) -> HttpResponsePermanentRedirect:
        slug = LEGACY_BENCHMARK
        if "version" in kwargs:
            # Versions are unique across benchmarks: send a release's link to its own pages.
            found = DatasetRelease.objects.filter(version=kwargs["version"])
            slug = found.values_list("benchmark__slug", flat=True).first() or slug
        url = reverse(name, kwargs={"benchmark": slug, **kwargs})
        query = request.META.get("QUERY_STRING", "")
        return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)

    return redirect


urlpatterns: list[URLPattern] = [
    path("board/", _to("board")),
    path("board/export.<str:fmt>", _to("board-export")),
    path("triples/", _to("browse")),
    path("triples/download.<str:fmt>", _to("download-filtered")),
    path("releases/", _to("release-list")),
    path("releases/<slug:version>/", _to("release-detail")),
    path("releases/<slug:version>/files/triples.<str:fmt>", _to("download-release")),
    path("releases/<slug:version>/triples/<str:uid>/", _to("item-detail")),
    path("releases/<slug:version>/triples/<str:uid>/results/", _to("item-results")),
    path("compare/", _to("compare")),
    path("methodology/", _to("methodology")),
]
