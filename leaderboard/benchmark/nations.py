"""The nations and modes NaVAB covers, as seeded by migration and matched by the importer."""

from __future__ import annotations

from typing import Any, Final, NamedTuple


class NationSeed(NamedTuple):
    code: str
    name: str
    release_folder: str
    languages: list[str]


class ModeSeed(NamedTuple):
    code: str
    name: str
    release_filename: str
    description: str


NATIONS: Final = (
    NationSeed("cn", "China", "china", ["zh", "en"]),
    NationSeed("us", "United States", "us", ["en"]),
    NationSeed("uk", "United Kingdom", "uk", ["en"]),
    NationSeed("fr", "France", "french", ["fr", "en"]),
    NationSeed("de", "Germany", "german", ["de", "en"]),
)

MODES: Final = (
    ModeSeed(
        "quoted",
        "Quoted statements",
        "human_statement_result.json",
        "Statements attributed to a named speaker in the nation's news.",
    ),
    ModeSeed(
        "official",
        "Official positions",
        "official_statement_result.json",
        "Positions stated by official or mainstream media without a named speaker.",
    ),
    # The German config's extra split; not in evaluation.release.MODES, so never on a board.
    ModeSeed(
        "source",
        "Source statements",
        "statements.json",
        "The German release's extra `source` split: statements with their source judgement. "
        "Browsable here; not scored on the boards.",
    ),
)


def seed_reference_data(nation_model: Any, mode_model: Any) -> None:
    """Create or update the nations and modes. The migration passes its historical models;
    tests call it again after a transactional test's flush emptied the tables."""
    for order, nation in enumerate(NATIONS):
        nation_model.objects.update_or_create(
            code=nation.code,
            defaults={
                "name": nation.name,
                "release_folder": nation.release_folder,
                "languages": nation.languages,
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
