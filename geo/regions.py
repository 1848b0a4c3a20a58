"""The region hierarchy (province -> 12 reporting units -> 107 counties), read from ``geo/regions.csv``.

``geo/regions.csv`` is made by ``python -m geo.build``. 杨陵区/杨凌示范区 (610403) and 韩城市 (610581) have a row
at both levels with the same code: a lookup by code gives the unit, the county row is what the county layer uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from geo.units import EXCLUDES, PROVINCE

REGIONS_CSV = Path(__file__).resolve().parent / "regions.csv"
LEVEL_NAMES = {"province": "省", "unit": "市（区）", "county": "县（区）"}


@dataclass(frozen=True)
class Region:
    adcode: str
    name: str
    short_name: str
    level: str
    parent_adcode: str
    admin_parent_adcode: str
    population: int
    lon: float
    lat: float
    bounds: tuple[float, float, float, float]

    @property
    def display_name(self) -> str:
        """The name with what its reported figure leaves out, e.g. 渭南市（不含韩城市）."""
        excluded = EXCLUDES.get(self.adcode)
        if self.level == "unit" and excluded:
            return f"{self.name}（不含{unit(excluded).name}）"
        return self.name


@lru_cache(maxsize=1)
def table() -> pd.DataFrame:
    """All region rows: adcode (str), name, short_name, level, parent_adcode, admin_parent_adcode, population, ..."""
    return pd.read_csv(
        REGIONS_CSV, dtype={"adcode": str, "parent_adcode": str, "admin_parent_adcode": str}, keep_default_na=False
    )


def _region(row) -> Region:
    return Region(
        row.adcode,
        row.name,
        row.short_name,
        row.level,
        row.parent_adcode,
        row.admin_parent_adcode,
        int(row.population),
        float(row.lon),
        float(row.lat),
        (float(row.min_lon), float(row.min_lat), float(row.max_lon), float(row.max_lat)),
    )


@lru_cache(maxsize=1)
def _by_code() -> dict[tuple[str, str], Region]:
    return {(r.adcode, r.level): _region(r) for r in table().itertuples()}


def get(adcode: str) -> Region | None:
    """The region for a code, preferring the widest level (a unit over the county with the same code)."""
    regions = _by_code()
    for level in ("province", "unit", "county"):
        if (adcode, level) in regions:
            return regions[(adcode, level)]
    return None


def unit(adcode: str) -> Region:
    return _by_code()[(adcode, "unit")]


def county(adcode: str) -> Region:
    return _by_code()[(adcode, "county")]


def province() -> Region:
    return _by_code()[(PROVINCE, "province")]


def units() -> list[Region]:
    return [r for (_, level), r in _by_code().items() if level == "unit"]


def province_and_units() -> list[str]:
    """The province and its 12 reporting units, by code: the regions most views are of (the forecast backtest, the
    KPI rows and map values a page of `/` holds ahead of a region change)."""
    return [PROVINCE, *(r.adcode for r in units())]


def counties(unit_adcode: str | None = None) -> list[Region]:
    """All 107 counties, or the counties whose figures a unit's report includes."""
    return [
        r
        for (_, level), r in _by_code().items()
        if level == "county" and (unit_adcode is None or r.parent_adcode == unit_adcode)
    ]


def unit_of(adcode: str) -> Region | None:
    """The reporting unit a region belongs to (itself for a unit); None for the province."""
    r = get(adcode)
    if r is None or r.level == "province":
        return None
    return r if r.level == "unit" else unit(r.parent_adcode)


def within_scope(adcode: str | None, scope: str | None) -> bool:
    """Is a region inside a scope (the scope itself, or a county of a scoped unit)? A scope of None is the whole
    province (an account's region, for one: accounts of a city see its counties)."""
    if scope is None:
        return True
    if not adcode:
        return False
    if adcode == scope:
        return True
    owner = unit_of(adcode)
    return owner is not None and owner.adcode == scope
