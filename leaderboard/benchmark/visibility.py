"""Who may see which release: drafts are for staff, published releases for everyone."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from leaderboard.benchmark.models import DatasetRelease, ReleaseQuerySet


def is_staff(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(getattr(user, "is_staff", False))


def visible_releases(user: AbstractBaseUser | AnonymousUser) -> ReleaseQuerySet:
    releases: ReleaseQuerySet = DatasetRelease.objects.all()
    return releases if is_staff(user) else releases.published()


def can_see(user: AbstractBaseUser | AnonymousUser, release: DatasetRelease) -> bool:
    return release.is_published or is_staff(user)
