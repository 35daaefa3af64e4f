"""The NaVAB nations and modes as database rows, written from NaVAB's declaration (the one
list of them, in `evaluation.benchmarks.navab`)."""

from __future__ import annotations

from typing import Any

from evaluation.benchmarks.navab import MODES, NATIONS


def seed_reference_data(nation_model: Any, mode_model: Any) -> None:
    """Create or update the nations and modes. The migration passes its historical models;
    tests call it again after a transactional test's flush emptied the tables."""
    for order, nation in enumerate(NATIONS):
        nation_model.objects.update_or_create(
            code=nation.code,
            defaults={
                "name": nation.name,
                "release_folder": nation.release_folder,
                "languages": list(nation.languages),
                "sort_order": order,
            },
        )
    for order, mode in enumerate(MODES):
        mode_model.objects.update_or_create(
            code=mode.code,
            defaults={
                "name": mode.name,
                "release_filename": mode.release_filename,
                "description": mode.description,
                "sort_order": order,
            },
        )
