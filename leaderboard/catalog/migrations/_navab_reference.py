"""NaVAB's nations and modes as the rows of the former Nation and Mode tables, written from
its declaration (`evaluation.benchmarks.navab`). Only migrations use this: 0002 and 0003 seeded
the tables, and going back past 0007, which deletes them, seeds them again."""

from __future__ import annotations

from typing import Any

from evaluation.benchmarks.navab import MODES, NATIONS


def seed_reference_data(nation_model: Any, mode_model: Any) -> None:
    """Create or update the nations and modes in the migration's historical models."""
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
