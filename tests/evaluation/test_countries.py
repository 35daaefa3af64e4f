"""The one table from free-text country names to ISO-3 codes (the world map's feature ids)."""

from __future__ import annotations

import json
from pathlib import Path

from evaluation.benchmarks.countries import ISO3_BY_NAME, NAME_OF_ISO3, is_unstated, iso3
from evaluation.benchmarks.divervalue.regions import REGION_OF, UNSPECIFIED

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "evaluation" / "benchmarks" / "divervalue" / "demo"


def test_it_places_every_country_of_the_publishers_region_table():
    named = [c for c, region in REGION_OF.items() if region != UNSPECIFIED]
    assert {c: iso3(c) for c in named if iso3(c) is None} == {}
    assert iso3("Korea, Republic of") == "KOR"
    assert iso3("Türkiye") == "TUR" and iso3("Turkey") == "TUR"
    assert iso3("Russian Federation") == "RUS"
    assert iso3("Venezuela, Bolivarian Republic of") == "VEN"
    assert iso3("Côte d'Ivoire") == iso3("Cote d\u2019Ivoire") == "CIV"


def test_it_ignores_case_accents_and_spacing_but_not_other_names():
    assert iso3("  united   KINGDOM ") == "GBR"
    assert iso3("Curacao") == iso3("Curaçao") == "CUW"
    assert iso3("Atlantis") is None
    assert iso3("Prefer not to say") is None


def test_unstated_answers_are_told_apart_from_unknown_names():
    assert is_unstated("Prefer not to say") and is_unstated("  ") and is_unstated("unknown")
    assert not is_unstated("Atlantis") and not is_unstated("Japan")


def test_every_code_is_an_iso_alpha_3_code_with_one_name():
    assert all(len(c) == 3 and c.isalpha() and c.isupper() for c in ISO3_BY_NAME.values())
    assert set(NAME_OF_ISO3) == set(ISO3_BY_NAME.values())
    assert all(iso3(name) == code for code, name in NAME_OF_ISO3.items())


def test_the_demo_releases_countries_are_placed_or_unstated():
    records = json.loads((DEMO / "DiverValue-Bench_dataset.json").read_text(encoding="utf-8"))
    countries = {r["birth_country/region"] for r in records}
    assert {c for c in countries if iso3(c) is None} == {"Prefer not to say"}


def test_every_placed_code_the_map_ships_a_shape_for_is_in_the_table():
    topology = json.loads((ROOT / "static/vendor/topojson/world_110m.json").read_text())
    shapes = {g["id"] for g in topology["objects"]["countries"]["geometries"] if g.get("id")}
    # Shapes without an id (areas with no ISO code) are skipped above.
    assert shapes - set(NAME_OF_ISO3) == set()
