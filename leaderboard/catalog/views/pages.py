"""The public dataset pages: overview, item browser, item detail and dataset cards, laid out
from the release's benchmark declaration (its slices, listed and shown fields)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from evaluation.benchmarks import benchmark_slugs, get_benchmark
from evaluation.benchmarks.contract import BenchmarkDefinition, ItemField
from evaluation.benchmarks.published import manifest_file_slice
from leaderboard.catalog.counts import CountTable, count_table, slice_values
from leaderboard.catalog.exports import FORMATS
from leaderboard.catalog.facets import facet_values, field_filters
from leaderboard.catalog.filters import item_filter_class
from leaderboard.catalog.models import Benchmark, DatasetRelease, Item, ReleaseQuerySet
from leaderboard.catalog.result_count import CountedPaginator, ResultCount, result_count
from leaderboard.catalog.visibility import is_staff, release_not_found, visible_releases

PAGE_SIZE = 25


@dataclass(frozen=True)
class BenchmarkSection:
    """One benchmark on the home page: its row, its declaration and its current release."""

    row: Benchmark
    declared: BenchmarkDefinition
    release: DatasetRelease | None
    counts: CountTable | None


def home(request: HttpRequest) -> HttpResponse:
    registered = set(benchmark_slugs())
    sections = []
    for row in Benchmark.objects.filter(slug__in=registered):
        release = DatasetRelease.objects.filter(benchmark=row).select_related("benchmark").current()
        counts = count_table(release) if release is not None else None
        sections.append(BenchmarkSection(row, get_benchmark(row.slug), release, counts))
    return render(request, "catalog/home.html", {"sections": sections})


def benchmark_releases(request: HttpRequest, benchmark: str) -> ReleaseQuerySet:
    """The releases of one benchmark this user may see."""
    return visible_releases(request.user).filter(benchmark__slug=benchmark)


def current_release(benchmark: str) -> DatasetRelease | None:
    """The benchmark's newest published release: the one its board evaluates against."""
    releases = DatasetRelease.objects.filter(benchmark__slug=benchmark)
    return releases.select_related("benchmark").current()


def _value(item: Item, field: ItemField) -> Any:
    value = item.data.get(field.name)
    if field.kind == "json" and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return value


def _listed(benchmark: BenchmarkDefinition) -> list[ItemField]:
    """The listed declared fields of the item list (slice fields are shown as dimensions)."""
    slice_fields = {d.field for d in benchmark.slices}
    return [f for f in benchmark.content_fields() if f.listed and f.name not in slice_fields]


def _row(benchmark: BenchmarkDefinition, item: Item, fields: list[ItemField]) -> dict[str, Any]:
    return {
        "item": item,
        "slices": [d.label_of(item.slices.get(d.key, "")) for d in benchmark.slices],
        "values": [_value(item, f) for f in fields],
    }


def _options(pairs: list[tuple[str, str]], selected: str) -> SafeString:
    """A filter's <option>s, built here: a template loop over a dropdown of 1,400 values (a
    full DiverValue-Bench release's users) cost 0.1 s a page."""
    return format_html_join(
        "",
        "{}",
        (
            (
                format_html('<option value="{}" selected>{}</option>', value, label)
                if value == selected
                else format_html('<option value="{}">{}</option>', value, label),
            )
            for value, label in pairs
        ),
    )


def _of_release(items: Any, release: DatasetRelease | None) -> list[Item]:
    """ITEMS (all of RELEASE) with their release set, for their links, instead of each
    loading its own."""
    listed = list(items)
    for item in listed:
        item.release = release
    return listed


def browse(request: HttpRequest, benchmark: str) -> HttpResponse:
    releases = benchmark_releases(request, benchmark)
    params = request.GET.copy()
    params.pop("page", None)
    current = None
    if not params.get("release"):
        # Without a release the browser shows the one the board evaluates against.
        current = current_release(benchmark)
        if current is not None:
            params["release"] = current.version

    # Neither the release (its manifest and facets decoded again for every row: 80 ms a page
    # on a full release) nor the search document is read with the items.
    items = Item.objects.filter(release__in=releases).defer("search_document")
    filterset = item_filter_class(benchmark)(params, queryset=items, request=request)
    release_field = filterset.form.fields["release"]
    assert isinstance(release_field, forms.ModelChoiceField)
    # Drafts are neither listed nor accepted for anyone but staff.
    release_field.queryset = releases
    valid = filterset.is_valid()
    release: DatasetRelease | None = filterset.form.cleaned_data.get("release")
    declared = get_benchmark(benchmark)
    if valid and release is not None:
        results = filterset.qs
        chosen = {
            key: str(value)
            for key, value in filterset.form.cleaned_data.items()
            if key != "release" and value not in ("", None)
        }
        count = result_count(release, declared, chosen, results)
    else:
        results, count = items.none(), ResultCount(0)

    page = CountedPaginator(results, PAGE_SIZE, count.n).get_page(request.GET.get("page"))
    selected = {key: str(value) for key, value in params.items() if value}
    held = slice_values(release) if release is not None else {}
    listed = _listed(declared)
    context = {
        "filterset": filterset,
        "release": release,
        "page": page,
        "count": count,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2),
        "selected": selected,
        "querystring": urlencode(selected),
        "releases": releases.order_by("-created_at"),
        "benchmark": declared,
        "slice_filters": [
            {
                "key": d.key,
                "label": d.label,
                "options": _options(
                    [(v, d.label_of(v)) for v in held.get(d.key, [])], selected.get(d.key, "")
                ),
            }
            for d in declared.slices
        ],
        "field_filters": [
            {
                "key": f.name,
                "label": f.label,
                "values": (values := facet_values(release.facets, f.name) if release else []),
                "options": _options([(v, v) for v in values], selected.get(f.name, "")),
            }
            for f in field_filters([declared])
        ],
        # The first listed field (the question, which links to the item) leads, then the
        # slice dimensions, then the other listed fields.
        "columns": [f.label for f in listed[:1]]
        + [d.label for d in declared.slices]
        + [f.label for f in listed[1:]],
        "rows": [_row(declared, item, listed) for item in _of_release(page.object_list, release)],
        "download_formats": list(FORMATS),
        "show_drafts": is_staff(request.user),
    }
    if current is not None:
        context["current_release"] = current
    version = params.get("release", "")
    if version and release is None:
        # The form says the choice is invalid; this says which benchmark's release it was.
        missing = release_not_found(benchmark, version, staff=is_staff(request.user))
        context["release_problem"] = str(missing)
    return render(request, "catalog/browse.html", context)


def item_detail(request: HttpRequest, benchmark: str, version: str, uid: str) -> HttpResponse:
    item = get_object_or_404(
        Item.objects.select_related("release", "release__benchmark"),
        release__in=benchmark_releases(request, benchmark),
        release__version=version,
        uid=uid,
    )
    declared = get_benchmark(benchmark)
    browse_query = {
        "release": version,
        **{d.key: item.slices.get(d.key, "") for d in declared.slices},
    }
    extra = item.extra if isinstance(item.extra, dict) else {}
    slice_fields = {d.field for d in declared.slices}
    shown = [f for f in declared.content_fields() if f.name not in slice_fields]
    slice_labels = [(d.label, d.label_of(item.slices.get(d.key, ""))) for d in declared.slices]
    context = {
        "item": item,
        "release": item.release,
        "benchmark": declared,
        "slice_labels": slice_labels,
        "slice_summary": ", ".join(label for _, label in slice_labels),
        "fields": [
            {"name": f.name, "label": f.label, "kind": f.kind, "value": _value(item, f)}
            for f in shown
            if item.data.get(f.name) not in ("", None)
        ],
        "browse_url": f"{reverse('browse', args=[benchmark])}?{urlencode(browse_query)}",
        # Unknown keys of the source record, as published: text as is, anything else as JSON.
        "extra_fields": [
            (key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
            for key, value in extra.items()
        ],
    }
    return render(request, "catalog/item_detail.html", context)


def release_list(request: HttpRequest, benchmark: str) -> HttpResponse:
    releases = (
        benchmark_releases(request, benchmark)
        .select_related("benchmark")
        .annotate(n_items=Count("items"))
        .order_by("-created_at")
    )
    context = {
        "releases": releases,
        "benchmark": get_benchmark(benchmark),
        "current_release": current_release(benchmark),
    }
    return render(request, "catalog/release_list.html", context)


def _section(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    # The manifest is free-form JSON written by the importer or the pipeline; read it defensively.
    value = mapping.get(key)
    return value if isinstance(value, dict) else {}


def _file_split(benchmark: BenchmarkDefinition, info: dict[str, Any]) -> str:
    """The slice a source file holds, its declared dimensions first (NaVAB "us/quoted"), then
    any other (a DiverValue-Bench split file's split); "" for a file of every slice."""
    held = manifest_file_slice(info)
    ordered = [held.pop(d.key) for d in benchmark.slices if d.key in held]
    return "/".join([*ordered, *held.values()])


@dataclass(frozen=True)
class CellSource:
    """The file a cell's items were read from, as the card lists it."""

    cell: str
    folder: str
    file: str
    info: dict[str, Any]


def _cell_sources(benchmark: BenchmarkDefinition, files: dict[str, Any]) -> list[CellSource]:
    """Each file that holds one cell (a value on every dimension: NaVAB's nation and mode
    files), in the declared cell order: where that cell's items came from."""
    found = []
    for name, info in files.items():
        held = manifest_file_slice(info) if isinstance(info, dict) else {}
        cell = benchmark.cell_key(held)
        if cell is None:
            continue
        folder, _, file = name.rpartition("/")
        label = " · ".join(d.label_of(held[d.key]) for d in benchmark.slices)
        order = benchmark.count_sort_key(cell)
        found.append((order, name, CellSource(label, folder, file, info)))
    return [source for _, _, source in sorted(found, key=lambda row: row[:2])]


def release_detail(request: HttpRequest, benchmark: str, version: str) -> HttpResponse:
    release = get_object_or_404(
        benchmark_releases(request, benchmark).select_related("benchmark"), version=version
    )
    manifest = release.manifest if isinstance(release.manifest, dict) else {}
    exports = _section(manifest, "exports")
    declared = get_benchmark(benchmark)
    downloads = [
        {
            "format": fmt,
            "name": declared.download_name(release.version, fmt),
            "url": reverse("download-release", args=[benchmark, release.version, fmt]),
            "sha256": _section(exports, fmt).get("sha256", ""),
            "bytes": _section(exports, fmt).get("bytes"),
        }
        for fmt in FORMATS
    ]
    notices = manifest.get("notices")
    files = [
        (name, info, _file_split(declared, info))
        for name, info in sorted(_section(manifest, "files").items())
        if isinstance(info, dict)
    ]
    citation = declared.citation
    overlaps = manifest.get("overlaps")
    context = {
        "release": release,
        "benchmark": declared,
        "counts": count_table(release),
        "files": files,
        "cell_sources": _cell_sources(declared, _section(manifest, "files")),
        "overlaps": [o for o in overlaps if isinstance(o, dict)]
        if isinstance(overlaps, list)
        else [],
        "checksum_name": declared.download_name(release.version, "jsonl"),
        "notices": [str(n) for n in notices] if isinstance(notices, list) else [],
        "downloads": downloads,
        "rejected": manifest.get("rejected"),
        "origin": _section(manifest, "origin"),
        "bibtex": citation.bibtex,
        "paper_url": citation.url,
    }
    return render(request, "catalog/release_detail.html", context)
