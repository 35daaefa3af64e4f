"""Fixtures for importer and download tests: small NaVAB folders and a private MEDIA_ROOT."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.navab_files import small_navab_files, write_navab


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    """Export files go to a per-test folder, never to the developer's MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def navab_dir(tmp_path: Path) -> Path:
    return write_navab(tmp_path / "NaVAB", small_navab_files())
