"""The nations and modes NaVAB covers, as seeded by migration and matched by the importer."""

from __future__ import annotations

from typing import Final, NamedTuple


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
)
