"""The national gazetteer: China's 34 provinces and 369 prefecture-level units (flows and national cases name them).

Resolves full names (恩施土家族苗族自治州), short names (恩施, 宝鸡), Baidu Migration's forms (恩施州, 湘西州,
大兴安岭地区), province names with or without their suffix (河北, 内蒙古自治区, 广西), and codes. Names that mean two
places are returned ``ambiguous`` with both: 吉林 (吉林省 / 吉林市), 海南 (海南省 / 海南藏族自治州). Pass ``level``
("city" or "province") when the file says which it means.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import shapely

from geo.gazetteer import Resolution, normalise

SOURCES = Path(__file__).resolve().parent / "sources"
_PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


@dataclass(frozen=True)
class Place:
    adcode: str
    name: str
    short_name: str
    level: str  # province | city
    province_adcode: str
    province_name: str
    lon: float | None
    lat: float | None
    population: int | None


def _province_short(name: str) -> str:
    for suffix in _PROVINCE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@lru_cache(maxsize=1)
def places() -> dict[tuple[str, str], Place]:
    """(adcode, level) -> Place, for every province and prefecture-level unit."""
    out: dict[tuple[str, str], Place] = {}
    provinces = json.loads((SOURCES / "china_provinces_simplified.geojson").read_text(encoding="utf-8"))
    for f in provinces["features"]:
        code, name = str(f["properties"]["adcode"]), f["properties"]["name"]
        point = shapely.geometry.shape(f["geometry"]).representative_point()  # where a flow line starts
        out[(code, "province")] = Place(
            code, name, _province_short(name), "province", code, name, round(point.x, 4), round(point.y, 4), None
        )
    cities = pd.read_csv(SOURCES / "china_cities.csv", dtype={"adcode": str, "province_adcode": str})
    for r in cities.itertuples():
        out[(r.adcode, "city")] = Place(
            r.adcode,
            r.name,
            r.short_name,
            "city",
            r.province_adcode,
            r.province_name,
            float(r.lon),
            float(r.lat),
            None if pd.isna(r.population) else int(r.population),
        )
    return out


@lru_cache(maxsize=1)
def _index() -> dict[str, set[tuple[str, str]]]:
    index: dict[str, set[tuple[str, str]]] = {}
    for key, p in places().items():
        names = {p.name, p.short_name}
        if p.level == "city" and p.name.endswith("自治州"):
            names.add(p.short_name + "州")  # Baidu: 恩施州, 湘西州
        if p.level == "city" and p.name.endswith(("地区", "盟")):
            names.add(p.short_name + p.name[-2:] if p.name.endswith("地区") else p.name)
        for n in names:
            index.setdefault(n, set()).add(key)
    return index


def get(adcode: str, level: str | None = None) -> Place | None:
    table = places()
    for lv in [level] if level else ["city", "province"]:
        if (adcode, lv) in table:
            return table[(adcode, lv)]
    return None


def resolve(query, level: str | None = None) -> Resolution:
    """Resolve a Chinese province or prefecture name or code; ``level`` narrows it ("city" / "province")."""
    raw = "" if query is None else str(query)
    text = normalise(raw)
    if not text:
        return Resolution(raw, "unknown", note="地区为空")
    if re.fullmatch(r"\d{6}", text):
        place = get(text, level)
        if place:
            return Resolution(raw, "resolved", place.adcode, place.name)
        return Resolution(raw, "unknown", note=f"代码 {text} 不是地级及以上行政区划代码")
    keys = _index().get(text, set())
    if level:
        keys = {k for k in keys if k[1] == level}
    if len({code for code, _ in keys}) == 1:  # one place; municipalities are a province and a city at once
        code, lv = sorted(keys)[0]
        return Resolution(raw, "resolved", code, places()[(code, lv)].name)
    if len(keys) > 1:
        candidates = tuple(sorted((c, places()[(c, lv)].name) for c, lv in keys))
        return Resolution(raw, "ambiguous", candidates=candidates, note=f"「{text}」可指多个地区，请写全称或注明省/市")
    similar = tuple(
        sorted(
            {
                (k[0], places()[k].name)
                for n, ks in _index().items()
                if text in n or n in text
                for k in ks
                if len(n) >= 2
            }
        )
    )[:8]
    return Resolution(raw, "unknown", candidates=similar, note=f"无法识别地区「{text}」")
