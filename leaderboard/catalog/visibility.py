"""Who may see which release: drafts are for staff, published releases for everyone."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404

from leaderboard.catalog.models import Benchmark, DatasetRelease, ReleaseQuerySet


def is_staff(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(getattr(user, "is_staff", False))


def visible_releases(user: AbstractBaseUser | AnonymousUser) -> ReleaseQuerySet:
    releases: ReleaseQuerySet = DatasetRelease.objects.all()
    return releases if is_staff(user) else releases.published()


def can_see(user: AbstractBaseUser | AnonymousUser, release: DatasetRelease) -> bool:
    return release.is_published or is_staff(user)


def release_not_found(benchmark: str, version: str, *, staff: bool = False) -> Http404:
    """The 404 for a `?release=` that is no release of BENCHMARK this user may see: it names
    the benchmark, and the benchmark the version belongs to where it is another's."""
    name = Benchmark.objects.filter(slug=benchmark).values_list("name", flat=True).first()
    releases = DatasetRelease.objects.all() if staff else DatasetRelease.objects.published()
    other = (
        releases.filter(version=version)
        .exclude(benchmark__slug=benchmark)
        .select_related("benchmark")
        .first()
    )
    message = f"No release {version!r} of {name or benchmark}"
    if other is not None:
        message += f": {version} is a {other.benchmark.name} release (see /{other.benchmark.slug}/)"
    return Http404(message + ".")
