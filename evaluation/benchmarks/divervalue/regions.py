"""The publisher's grouping of birth countries/regions into world regions.

DiverValue-Bench's regional analysis maps the PRISM country names (as the records spell them,
e.g. "Korea, Republic of", "Türkiye") onto ten regions; a country the publisher did not map
falls into "Other", and the site lists which countries did so a release's Other slice is never
a silent bucket.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

OTHER: Final = "Other"
UNSPECIFIED: Final = "Unspecified"

_BY_REGION: Final[dict[str, tuple[str, ...]]] = {
    "Western": (
        "United States", "Canada", "United Kingdom", "Australia", "Ireland", "Belgium",
        "France", "Finland", "Denmark", "Latvia", "Switzerland", "Iceland", "Austria",
        "Slovenia", "Luxembourg", "Netherlands", "Germany", "Spain", "Italy", "Portugal",
    ),
    "East Asia": ("China", "Hong Kong", "Japan", "Korea, Republic of"),
    "Southeast Asia": ("Philippines", "Malaysia", "Indonesia", "Vietnam"),
    "South Asia": ("India", "Bangladesh", "Nepal", "Sri Lanka", "Pakistan"),
    "Africa": (
        "South Africa", "Zambia", "Kenya", "Nigeria", "Ghana", "Sudan", "Malawi",
        "Côte d'Ivoire",
    ),
    "Eastern Europe": (
        "Poland", "Romania", "Russian Federation", "Estonia", "Czechia", "Hungary",
        "Slovakia", "Bulgaria", "Ukraine", "Lithuania", "Belarus",
    ),
    "Middle East": ("Israel", "Kuwait", "Türkiye"),
    "Latin America": (
        "Mexico", "Chile", "Brazil", "Argentina", "Colombia",
        "Venezuela, Bolivarian Republic of", "Dominican Republic", "Jamaica", "Guyana",
        "Cuba", "Honduras",
    ),
    "Oceania": ("New Zealand",),
    UNSPECIFIED: ("Prefer not to say",),
}  # fmt: skip

REGIONS: Final = (*_BY_REGION, OTHER)
REGION_OF: Final[dict[str, str]] = {
    country: region for region, countries in _BY_REGION.items() for country in countries
}


def region_of(country: str) -> str:
    """The publisher's region of a birth country/region; Other when it has none."""
    return REGION_OF.get(country.strip(), OTHER)


def unmapped(countries: Iterable[str]) -> list[str]:
    """The countries that fall into Other, sorted: shown beside the region board."""
    return sorted({c for c in countries if region_of(c) == OTHER})
