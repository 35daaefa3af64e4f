"""The public dataset pages: overview, triple browser, triple detail and dataset cards."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from leaderboard.benchmark.citation import NAVAB_BIBTEX, NAVAB_PAPER_URL
from leaderboard.benchmark.counts import count_table
from leaderboard.benchmark.exports import FORMATS
from leaderboard.benchmark.filters import TripleFilter
from leaderboard.benchmark.models import DatasetRelease, Mode, Nation, Triple
from leaderboard.benchmark.visibility import is_staff, visible_releases

PAGE_SIZE = 25


def home(request: HttpRequest) -> HttpResponse:
    release = DatasetRelease.objects.current()
    context: dict[str, Any] = {"release": release, "current_release": release}
    if release is not None:
        context["counts"] = count_table(release)
    return render(request, "benchmark/home.html", context)


def _distinct(release: DatasetRelease | None, field: str) -> list[str]:
    if release is None:
        return []
    values = (
        Triple.objects.filter(release=release)
        .exclude(**{field: ""})
        .order_by(field)
        .values_list(field, flat=True)
        .distinct()
    )
    return list(values)


def browse(request: HttpRequest) -> HttpResponse:
    releases = visible_releases(request.user)
    params = request.GET.copy()
    params.pop("page", None)
    current = None
    if not params.get("release"):
        # Without a release the browser shows the one the board evaluates against.
        current = DatasetRelease.objects.current()
        if current is not None:
            params["release"] = current.version

    triples = Triple.objects.filter(release__in=releases).select_related(
        "release", "nation", "mode"
    )
    filterset = TripleFilter(params, queryset=triples, request=request)
    release_field = filterset.form.fields["release"]
    assert isinstance(release_field, forms.ModelChoiceField)
    # Drafts are neither listed nor accepted for anyone but staff.
    release_field.queryset = releases
    valid = filterset.is_valid()
    release: DatasetRelease | None = filterset.form.cleaned_data.get("release")
    results = filterset.qs if valid and release is not None else triples.none()

    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    selected = {key: value for key, value in params.items() if value}
    context = {
        "filterset": filterset,
        "release": release,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2),
        "selected": selected,
        "querystring": urlencode(selected),
        "releases": releases.order_by("-created_at"),
        "nations": Nation.objects.all(),
        "modes": Mode.objects.all(),
        "topics": _distinct(release, "topic"),
        "languages": _distinct(release, "language"),
        "download_formats": list(FORMATS),
        "show_drafts": is_staff(request.user),
    }
    if current is not None:
        context["current_release"] = current
    return render(request, "benchmark/browse.html", context)


def triple_detail(request: HttpRequest, version: str, uid: str) -> HttpResponse:
    triple = get_object_or_404(
        Triple.objects.select_related("release", "nation", "mode"),
        release__in=visible_releases(request.user),
        release__version=version,
        uid=uid,
    )
    browse_query = {"release": version, "nation": triple.nation.code, "mode": triple.mode.code}
    extra = triple.extra if isinstance(triple.extra, dict) else {}
    context = {
        "triple": triple,
        "release": triple.release,
        "browse_url": f"{reverse('browse')}?{urlencode(browse_query)}",
        # Unknown keys of the source record, as published: text as is, anything else as JSON.
        "extra_fields": [
            (key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
            for key, value in extra.items()
        ],
    }
    return render(request, "benchmark/triple_detail.html", context)


def release_list(request: HttpRequest) -> HttpResponse:
    releases = (
        visible_releases(request.user).annotate(n_triples=Count("triples")).order_by("-created_at")
    )
    return render(request, "benchmark/release_list.html", {"releases": releases})


def _section(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    # The manifest is free-form JSON written by the importer or the pipeline; read it defensively.
    value = mapping.get(key)
    return value if isinstance(value, dict) else {}


def release_detail(request: HttpRequest, version: str) -> HttpResponse:
    release = get_object_or_404(visible_releases(request.user), version=version)
    manifest = release.manifest if isinstance(release.manifest, dict) else {}
    exports = _section(manifest, "exports")
    downloads = [
        {
            "format": fmt,
            "url": reverse("download-release", args=[release.version, fmt]),
            "sha256": _section(exports, fmt).get("sha256", ""),
            "bytes": _section(exports, fmt).get("bytes"),
        }
        for fmt in FORMATS
    ]
    notices = manifest.get("notices")
    context = {
        "release": release,
        "counts": count_table(release),
        "files": sorted(_section(manifest, "files").items()),
        "notices": [str(n) for n in notices] if isinstance(notices, list) else [],
        "downloads": downloads,
        "rejected": manifest.get("rejected"),
        "bibtex": NAVAB_BIBTEX,
        "paper_url": NAVAB_PAPER_URL,
    }
    return render(request, "benchmark/release_detail.html", context)
