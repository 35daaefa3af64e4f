"""Country and region names as publishers spell them, mapped to ISO 3166-1 alpha-3 codes.

Benchmarks carry free-text places (DiverValue-Bench's `birth_country/region` holds PRISM's
spellings such as "Korea, Republic of", "Türkiye", "Russian Federation"); a world map needs
ISO-3 codes, which Plotly's shipped topojson uses as feature ids. This table is the one place
that mapping lives. A name it cannot place maps to None and the map lists it, never drops it;
"Prefer not to say" and the like are unstated, listed apart from names the table lacks.
"""

from __future__ import annotations

import unicodedata
from typing import Final

# One line per code: the ISO short name first, then other spellings seen in survey data
# (PRISM's, the UN's, the common English ones), separated by "|".
_TABLE: Final = """
AFG Afghanistan
ALA Åland Islands|Aland Islands
ALB Albania
DZA Algeria
ASM American Samoa
AND Andorra
AGO Angola
AIA Anguilla
ATA Antarctica
ATG Antigua and Barbuda
ARG Argentina
ARM Armenia
ABW Aruba
AUS Australia
AUT Austria
AZE Azerbaijan
BHS Bahamas|The Bahamas
BHR Bahrain
BGD Bangladesh
BRB Barbados
BLR Belarus
BEL Belgium
BLZ Belize
BEN Benin
BMU Bermuda
BTN Bhutan
BOL Bolivia|Bolivia, Plurinational State of
BIH Bosnia and Herzegovina|Bosnia
BWA Botswana
BRA Brazil
IOT British Indian Ocean Territory
VGB Virgin Islands, British|British Virgin Islands
BRN Brunei Darussalam|Brunei
BGR Bulgaria
BFA Burkina Faso
BDI Burundi
CPV Cabo Verde|Cape Verde
KHM Cambodia
CMR Cameroon
CAN Canada
CYM Cayman Islands
CAF Central African Republic
TCD Chad
CHL Chile
CHN China|People's Republic of China
COL Colombia
COM Comoros
COG Congo|Republic of the Congo|Congo-Brazzaville
COD Congo, The Democratic Republic of the|Democratic Republic of the Congo|DR Congo|DRC
COK Cook Islands
CRI Costa Rica
CIV Côte d'Ivoire|Cote d'Ivoire|Ivory Coast
HRV Croatia
CUB Cuba
CUW Curaçao|Curacao
CYP Cyprus
CZE Czechia|Czech Republic
DNK Denmark
DJI Djibouti
DMA Dominica
DOM Dominican Republic
ECU Ecuador
EGY Egypt
SLV El Salvador
GNQ Equatorial Guinea
ERI Eritrea
EST Estonia
SWZ Eswatini|Swaziland
ETH Ethiopia
FLK Falkland Islands (Malvinas)|Falkland Islands
FRO Faroe Islands
FJI Fiji
FIN Finland
FRA France
PYF French Polynesia
ATF French Southern Territories
GAB Gabon
GMB Gambia|The Gambia
GEO Georgia
DEU Germany
GHA Ghana
GRC Greece
GRL Greenland
GRD Grenada
GUM Guam
GTM Guatemala
GGY Guernsey
GIN Guinea
GNB Guinea-Bissau
GUY Guyana
HTI Haiti
HMD Heard Island and McDonald Islands
VAT Holy See (Vatican City State)|Holy See|Vatican City
HND Honduras
HKG Hong Kong|Hong Kong SAR
HUN Hungary
ISL Iceland
IND India
IDN Indonesia
IRN Iran, Islamic Republic of|Iran
IRQ Iraq
IRL Ireland
IMN Isle of Man
ISR Israel
ITA Italy
JAM Jamaica
JPN Japan
JEY Jersey
JOR Jordan
KAZ Kazakhstan
KEN Kenya
KIR Kiribati
PRK Korea, Democratic People's Republic of|North Korea
KOR Korea, Republic of|South Korea|Republic of Korea|Korea
KWT Kuwait
KGZ Kyrgyzstan
LAO Lao People's Democratic Republic|Laos
LVA Latvia
LBN Lebanon
LSO Lesotho
LBR Liberia
LBY Libya
LIE Liechtenstein
LTU Lithuania
LUX Luxembourg
MAC Macao|Macau
MDG Madagascar
MWI Malawi
MYS Malaysia
MDV Maldives
MLI Mali
MLT Malta
MHL Marshall Islands
MRT Mauritania
MUS Mauritius
MEX Mexico
FSM Micronesia, Federated States of|Micronesia
MDA Moldova, Republic of|Moldova
MCO Monaco
MNG Mongolia
MNE Montenegro
MSR Montserrat
MAR Morocco
MOZ Mozambique
MMR Myanmar|Burma
NAM Namibia
NRU Nauru
NPL Nepal
NLD Netherlands|The Netherlands|Holland
NCL New Caledonia
NZL New Zealand
NIC Nicaragua
NER Niger
NGA Nigeria
NIU Niue
NFK Norfolk Island
MKD North Macedonia|Macedonia
MNP Northern Mariana Islands
NOR Norway
OMN Oman
PAK Pakistan
PLW Palau
PSE Palestine, State of|Palestine
PAN Panama
PNG Papua New Guinea
PRY Paraguay
PER Peru
PHL Philippines
PCN Pitcairn
POL Poland
PRT Portugal
PRI Puerto Rico
QAT Qatar
ROU Romania
RUS Russian Federation|Russia
RWA Rwanda
BLM Saint Barthélemy|Saint Barthelemy
SHN Saint Helena, Ascension and Tristan da Cunha|Saint Helena
KNA Saint Kitts and Nevis
LCA Saint Lucia
MAF Saint Martin (French part)|Saint Martin
SPM Saint Pierre and Miquelon
VCT Saint Vincent and the Grenadines
WSM Samoa
SMR San Marino
STP Sao Tome and Principe|São Tomé and Príncipe
SAU Saudi Arabia
SEN Senegal
SRB Serbia
SYC Seychelles
SLE Sierra Leone
SGP Singapore
SXM Sint Maarten (Dutch part)|Sint Maarten
SVK Slovakia
SVN Slovenia
SLB Solomon Islands
SOM Somalia
ZAF South Africa
SGS South Georgia and the South Sandwich Islands
SSD South Sudan
ESP Spain
LKA Sri Lanka
SDN Sudan
SUR Suriname
SWE Sweden
CHE Switzerland
SYR Syrian Arab Republic|Syria
TWN Taiwan|Taiwan, Province of China
TJK Tajikistan
TZA Tanzania, United Republic of|Tanzania
THA Thailand
TLS Timor-Leste|East Timor
TGO Togo
TON Tonga
TTO Trinidad and Tobago
TUN Tunisia
TUR Türkiye|Turkiye|Turkey
TKM Turkmenistan
TCA Turks and Caicos Islands
UGA Uganda
UKR Ukraine
ARE United Arab Emirates|UAE
GBR United Kingdom|United Kingdom of Great Britain and Northern Ireland|UK|Great Britain
USA United States|United States of America|USA|US
URY Uruguay
UZB Uzbekistan
VUT Vanuatu
VEN Venezuela, Bolivarian Republic of|Venezuela
VNM Viet Nam|Vietnam
VIR Virgin Islands, U.S.|US Virgin Islands
WLF Wallis and Futuna
ESH Western Sahara
YEM Yemen
ZMB Zambia
ZWE Zimbabwe
"""

# Answers that name no place: listed under a map as "unstated", apart from unknown names.
_UNSTATED: Final = ("Prefer not to say", "Unspecified", "Unknown", "Not stated", "None", "N/A")


def _normal(name: str) -> str:
    """Case, accents, spacing and punctuation differences are spelling, not another place."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(plain.replace("\u2019", "'").replace(".", " ").split())


def _parse(table: str) -> dict[str, str]:
    codes: dict[str, str] = {}
    for line in table.strip().splitlines():
        code, names = line.split(" ", 1)
        for name in names.split("|"):
            key = _normal(name)
            if key in codes and codes[key] != code:
                raise ValueError(f"{name!r} names both {codes[key]} and {code}")
            codes[key] = code
    return codes


ISO3_BY_NAME: Final[dict[str, str]] = _parse(_TABLE)
NAME_OF_ISO3: Final[dict[str, str]] = {
    line.split(" ", 1)[0]: line.split(" ", 1)[1].split("|")[0]
    for line in _TABLE.strip().splitlines()
}
UNSTATED: Final = frozenset(_normal(v) for v in _UNSTATED)


def iso3(name: str) -> str | None:
    """The ISO 3166-1 alpha-3 code of a country or region name; None where the table has
    none (an unstated answer, a misspelling, a place it does not list)."""
    return ISO3_BY_NAME.get(_normal(name))


def is_unstated(name: str) -> bool:
    return _normal(name) in UNSTATED or not name.strip()
