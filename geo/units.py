"""Shaanxi's reporting units and the naming rules shared by the build, the region table and the gazetteer.

Shaanxi's 2020 bulletins report 12 units: the 10 prefecture cities, 杨凌示范区 (the territory of county 610403
杨陵区 inside 咸阳) and 韩城市 (county-level city 610581 inside 渭南). 咸阳's and 渭南's reported figures exclude
them, so on the map each of the two is its own polygon and 咸阳/渭南 are drawn without it.
"""

from __future__ import annotations

PROVINCE = "610000"

# County-level territories reported as units of their own: county adcode -> unit adcode (the same code).
REPORTING_UNIT_COUNTIES = {"610403": "610403", "610581": "610581"}

# Units whose reported figure excludes a county-level unit inside their territory.
EXCLUDES = {"610400": "610403", "610500": "610581"}

_SUFFIXES = ("自治县", "示范区", "新区", "区", "县", "市", "省")


def unit_of_county(county_adcode: str, prefecture_adcode: str) -> str:
    """The reporting unit whose figures include this county."""
    return REPORTING_UNIT_COUNTIES.get(county_adcode, prefecture_adcode)


def short_name(name: str) -> str:
    """西安市 -> 西安, 雁塔区 -> 雁塔, 杨凌示范区 -> 杨凌; two-character names (乾县, 富县) keep their suffix,
    since a one-character short name would match far too much."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name
