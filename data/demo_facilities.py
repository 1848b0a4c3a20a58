"""A seeded, deterministic DEMO set of fever clinics, designated pharmacies and supply points (演示数据).

No public list of Shaanxi's facilities with coordinates exists, so the dashboard ships this stand-in and labels it
演示数据 wherever it appears. Counts follow the 2020 census population of each county (at least one of each kind
per county): fever clinics ~1 per 100,000 people, pharmacies ~5, supply points ~4. Points lie inside the real
county polygons: most near the county's representative point (where towns are), the rest spread over the county.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geo.units import unit_of_county

SEED = 20200123  # the day Shaanxi started its level-I response
SOURCE = "演示数据（系统按人口生成，非真实设施）"
COUNTIES = Path(__file__).resolve().parent.parent / "geo" / "sources" / "shaanxi_counties.geojson"
POPULATION = Path(__file__).resolve().parent.parent / "geo" / "sources" / "shaanxi_population.csv"
PER_100K = {"fever_clinic": 1.0, "pharmacy": 5.0, "supply_point": 4.0}
KIND_NAMES = {"fever_clinic": "发热门诊", "pharmacy": "定点药店", "supply_point": "物资保障点"}
_ROADS = ["人民", "建设", "解放", "文化", "长安", "团结", "和平", "新华", "健康", "幸福", "振兴", "朝阳"]
_HOSPITALS = ["人民医院", "中医医院", "第二人民医院", "中心医院", "妇幼保健院", "中心卫生院"]


def _points_in(polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points inside the polygon: 70 % scattered around its representative point, 30 % uniform over it."""
    minx, miny, maxx, maxy = polygon.bounds
    seat = polygon.representative_point()
    spread = 0.15 * np.sqrt(polygon.area)
    out = np.empty((0, 2))
    while len(out) < n:
        near = rng.normal([seat.x, seat.y], spread, size=(n, 2))
        anywhere = rng.uniform([minx, miny], [maxx, maxy], size=(n, 2))
        pick = rng.random(n) < 0.7
        cand = np.where(pick[:, None], near, anywhere)
        cand = cand[shapely.contains_xy(polygon, cand[:, 0], cand[:, 1])]
        out = np.vstack([out, cand])
    return out[:n]


def _attrs(kind: str, rng: np.random.Generator) -> dict:
    if kind == "fever_clinic":
        level = str(rng.choice(["三级", "二级", "一级"], p=[0.2, 0.5, 0.3]))
        capacity = int({"三级": 300, "二级": 120, "一级": 40}[level] * rng.uniform(0.7, 1.3))
        return {
            "hospital_level": level,
            "beds": int(capacity * rng.uniform(0.1, 0.3)),
            "daily_capacity": capacity,
            "daily_visits": int(capacity * rng.uniform(0.2, 0.95)),
        }
    if kind == "pharmacy":
        return {"mask_stock": int(rng.integers(200, 6000))}
    return {
        "vegetable_stock_t": round(float(rng.uniform(0.5, 20)), 1),
        "opening_hours": str(rng.choice(["07:00-21:00", "08:00-20:00", "全天"])),
    }


def _name(kind: str, county: str, i: int, rng: np.random.Generator) -> str:
    short = county if len(county) <= 2 else county[:-1]
    if kind == "fever_clinic":
        return f"{short}{_HOSPITALS[i % len(_HOSPITALS)]}发热门诊" + (
            f"（{i // len(_HOSPITALS) + 1}）" if i >= len(_HOSPITALS) else ""
        )
    if kind == "pharmacy":
        return f"{short}惠民大药房第{i + 1}店"
    return f"{short}储备菜投放点{i + 1:02d}"


def generate(seed: int = SEED, per_100k: dict[str, float] | None = None) -> pd.DataFrame:
    """All demo facilities as store rows (kind, name, address, county_adcode, unit_adcode, lon, lat, status, attrs);
    ``per_100k`` overrides the density of each kind (the scale data set uses ~25 times the default)."""
    features = json.loads(COUNTIES.read_text(encoding="utf-8"))["features"]
    population = pd.read_csv(POPULATION, dtype={"adcode": str}).set_index("adcode").population
    rows = []
    for feature in sorted(features, key=lambda f: f["properties"]["adcode"]):
        props = feature["properties"]
        adcode, county = str(props["adcode"]), props["name"]
        polygon = shapely.geometry.shape(feature["geometry"])
        rng = np.random.default_rng([seed, int(adcode)])
        for kind, rate in (per_100k or PER_100K).items():
            n = max(1, round(population[adcode] / 100_000 * rate))
            for i, (lon, lat) in enumerate(_points_in(polygon, n, rng)):
                rows.append(
                    {
                        "kind": kind,
                        "name": _name(kind, county, i, rng),
                        "address": f"陕西省{props['parent_name']}{county}{_ROADS[int(rng.integers(len(_ROADS)))]}路"
                        f"{int(rng.integers(1, 400))}号",
                        "county_adcode": adcode,
                        "unit_adcode": unit_of_county(adcode, str(props["parent_adcode"])),
                        "lon": round(float(lon), 6),
                        "lat": round(float(lat), 6),
                        "status": "open" if rng.random() > 0.05 else "closed",
                        "attrs": _attrs(kind, rng),
                        "is_demo": True,
                    }
                )
    return pd.DataFrame(rows)
