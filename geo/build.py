"""Build the browser boundaries and the region table from the full-resolution sources.

Run once when the sources change (``python -m geo.build``); the outputs are committed:

- ``assets/geo/counties.geojson``  107 counties, simplified *as a coverage* so neighbours keep shared borders
- ``assets/geo/units.geojson``     the 12 reporting units, dissolved from the simplified counties
- ``assets/geo/province.geojson``  the province outline, dissolved likewise
- ``assets/geo/china.geojson``     the national province background (already simplified upstream)
- ``geo/regions.csv``              adcode, names, level, parents, population, bounding box. 杨陵区 (610403) and
  韩城市 (610581) appear twice, as a unit and as a county, with the same code: one territory, two levels.

Why coverage simplification: simplifying each county on its own opens slivers between neighbours; shapely's
``coverage_simplify`` moves every shared edge once, for both sides.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo.units import short_name, unit_of_county

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "geo" / "sources"
ASSETS = ROOT / "assets" / "geo"
REGIONS_CSV = ROOT / "geo" / "regions.csv"

# ~500 m at Shaanxi's latitude. Measured: every county valid, the coverage stays gap-free, per-county IoU >= 0.92.
TOLERANCE_DEG = 0.005
DECIMALS = 4  # ~10 m: finer than the tolerance, and shared vertices round identically on both sides


def _write(gdf: gpd.GeoDataFrame, path: Path) -> int:
    features = []
    for row in gdf.itertuples():
        geom = shapely.set_precision(row.geometry, 10**-DECIMALS)
        features.append(
            {
                "type": "Feature",
                "id": str(row.adcode),
                "properties": {"adcode": str(row.adcode), "name": row.name},
                "geometry": json.loads(shapely.to_geojson(geom, indent=None)),
            }
        )
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text, encoding="utf-8")
    return len(text.encode())


def simplified_counties() -> gpd.GeoDataFrame:
    counties = gpd.read_file(SOURCES / "shaanxi_counties.geojson")
    counties["geometry"] = shapely.coverage_simplify(counties.geometry.values, TOLERANCE_DEG)
    counties["adcode"] = counties["adcode"].astype(str)
    counties["parent_adcode"] = counties["parent_adcode"].astype(str)
    return counties


def unit_population(county_pop: pd.Series) -> dict[str, int]:
    """Population of each reporting unit, on the basis its case figures are reported on.

    The Shaanxi census bulletin gives the 10 cities and 杨凌; its 西安 includes the 769,627 residents of the
    西咸新区 areas that 西安 administers (taken from 咸阳's counties), which is how cases were reported too.
    韩城 is reported on its own, so 渭南's figure is the bulletin's minus 韩城's county population.
    """
    bulletin = pd.read_csv(SOURCES / "shaanxi_population_prefectures.csv", dtype={"adcode": str})
    pop = dict(zip(bulletin.adcode, bulletin.population.astype(int)))
    pop["610581"] = int(county_pop["610581"])
    pop["610500"] = pop["610500"] - pop["610581"]
    return pop


def build(assets: Path = ASSETS, regions_csv: Path = REGIONS_CSV) -> dict[str, int]:
    """Write the four boundary files and the region table; returns the byte size of each boundary file."""
    assets.mkdir(parents=True, exist_ok=True)
    counties = simplified_counties()
    assert shapely.coverage_is_valid(counties.geometry.values), "simplified county coverage is not valid"
    counties["unit"] = [unit_of_county(a, p) for a, p in zip(counties.adcode, counties.parent_adcode)]

    units = counties.dissolve(by="unit", as_index=False)[["unit", "geometry"]].rename(columns={"unit": "adcode"})
    names = {a: n for a, n in zip(counties.parent_adcode, counties.parent_name)}
    names.update({"610403": "杨凌示范区", "610581": "韩城市"})
    units["name"] = units.adcode.map(names)
    province = gpd.GeoDataFrame(
        {"adcode": ["610000"], "name": ["陕西省"]},
        geometry=[shapely.union_all(counties.geometry.values)],
        crs=counties.crs,
    )

    sizes = {
        "counties": _write(counties, assets / "counties.geojson"),
        "units": _write(units, assets / "units.geojson"),
        "province": _write(province, assets / "province.geojson"),
    }
    china = gpd.read_file(SOURCES / "china_provinces_simplified.geojson")
    china["adcode"] = china["adcode"].astype(str)
    sizes["china"] = _write(china, assets / "china.geojson")

    county_pop = pd.read_csv(SOURCES / "shaanxi_population.csv", dtype={"adcode": str}).set_index("adcode").population
    upop = unit_population(county_pop)

    rows = [_row(province.itertuples().__next__(), "610000", "province", "", "", int(county_pop.sum()))]
    for u in units.sort_values("adcode").itertuples():
        admin_parent = "610400" if u.adcode == "610403" else "610500" if u.adcode == "610581" else ""
        rows.append(_row(u, u.adcode, "unit", "610000", admin_parent, upop[u.adcode]))
    for c in counties.sort_values("adcode").itertuples():
        rows.append(_row(c, c.adcode, "county", c.unit, c.parent_adcode, int(county_pop[c.adcode])))
    pd.DataFrame(rows).to_csv(regions_csv, index=False)
    return sizes


def _row(feature, adcode: str, level: str, parent: str, admin_parent: str, population: int) -> dict:
    minx, miny, maxx, maxy = feature.geometry.bounds
    point = feature.geometry.representative_point()
    return {
        "adcode": adcode,
        "name": feature.name,
        "short_name": short_name(feature.name),
        "level": level,
        "parent_adcode": parent,
        "admin_parent_adcode": admin_parent or parent,
        "population": population,
        "lon": round(point.x, 4),
        "lat": round(point.y, 4),
        "min_lon": round(minx, 4),
        "min_lat": round(miny, 4),
        "max_lon": round(maxx, 4),
        "max_lat": round(maxy, 4),
    }


if __name__ == "__main__":
    print("wrote", {k: f"{v:,} B" for k, v in build().items()})
