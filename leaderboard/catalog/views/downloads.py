"""Item downloads: the current filter (streamed) and whole releases (built once, checksummed)."""

from __future__ import annotations

from django import forms
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotFound,
    HttpResponseNotModified,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.exports import FORMATS, columns_for, release_file, streaming_response
from leaderboard.catalog.filters import item_filter_class
from leaderboard.catalog.models import DatasetRelease, Item
from leaderboard.catalog.views.pages import current_release
from leaderboard.catalog.visibility import can_see, is_staff, release_not_found


def _unknown_format(fmt: str) -> HttpResponse:
    return HttpResponseNotFound(
        f"Unknown download format {fmt!r}: items are available as "
        + ", ".join(f".{name}" for name in FORMATS)
        + ".\n",
        content_type="text/plain; charset=utf-8",
    )


def download_filtered(request: HttpRequest, benchmark: str, fmt: str) -> HttpResponseBase:
    if fmt not in FORMATS:
        return _unknown_format(fmt)
    data = request.GET.copy()
    if not data.get("release"):
        current = current_release(benchmark)
        if current is None:
            raise Http404("No release has been published yet.")
        data["release"] = current.version
    items = Item.objects.for_export().filter(release__benchmark__slug=benchmark)
    filterset = item_filter_class(benchmark)(data, queryset=items, request=request)
    release_field = filterset.form.fields["release"]
    assert isinstance(release_field, forms.ModelChoiceField)
    release_field.queryset = DatasetRelease.objects.filter(benchmark__slug=benchmark)
    if not filterset.is_valid():
        problems = "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in filterset.errors.items()
        )
        if "release" in filterset.errors:
            version = data.get("release", "")
            problems += f" ({release_not_found(benchmark, version, staff=is_staff(request.user))})"
        return HttpResponseBadRequest(
            f"Invalid filter: {problems}\n", content_type="text/plain; charset=utf-8"
        )
    release: DatasetRelease = filterset.form.cleaned_data["release"]
    if not can_see(request.user, release):
        raise Http404("No such release.")
    return streaming_response(
        filterset.qs,
        columns_for(release),
        fmt,
        f"{get_benchmark(release.benchmark.slug).file_stem(release.version)}-filtered.{fmt}",
    )


def download_release(
    request: HttpRequest, benchmark: str, version: str, fmt: str
) -> HttpResponseBase:
    if fmt not in FORMATS:
        return _unknown_format(fmt)
    release = get_object_or_404(
        DatasetRelease.objects.select_related("benchmark"),
        benchmark__slug=benchmark,
        version=version,
    )
    if not can_see(request.user, release):
        raise Http404("No such release.")
    export = release_file(release, fmt)
    etag = f'"{export.sha256}"'
    if etag in (tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")):
        not_modified = HttpResponseNotModified()
        not_modified["ETag"] = etag
        return not_modified
    response = FileResponse(
        export.path.open("rb"),
        as_attachment=True,
        filename=get_benchmark(release.benchmark.slug).download_name(release.version, fmt),
        content_type=FORMATS[fmt].content_type,
    )
    response["ETag"] = etag
    response["X-Checksum-SHA256"] = export.sha256
    return response
