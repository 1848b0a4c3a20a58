"""Read side of the resource views: fever-clinic coverage per county, the uncovered area to draw, supply adequacy.

Computed once per process, database, data version and distance (a new facility batch or a rollback changes the
version); the county polygons are read and projected once per process. The geometry stays in the process (it is
too big for the shared cache); the browser gets the uncovered area as a GeoJSON file whose URL names the data
version, so it fetches it once per version and distance and caches it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import pandas as pd
import shapely

from analytics import allocation
from analytics import coverage as cov
from analytics.adequacy import facility_sums
from analytics.adequacy import table as adequacy_table
from data import cache, queries, store
from data.demo_facilities import COUNTIES
from geo import regions
from geo.units import PROVINCE

GAP_TOLERANCE_M = 300  # simplification of the drawn uncovered area: finer than the ~500 m of the county layer
DECIMALS = 4  # ~10 m, as the boundary files


@dataclass(frozen=True)
class Coverage:
    version: str
    distance_km: float
    counties: pd.DataFrame  # index county adcode: name, area_km2, covered_km2, population, covered_population, ...
    units: pd.DataFrame  # index unit adcode, same columns, from the unit's counties
    province: pd.Series
    gaps: gpd.GeoSeries  # each county's uncovered part, metric CRS
    clinics: int  # open fever clinics that count
    demo: bool


@lru_cache(maxsize=1)
def county_polygons() -> gpd.GeoDataFrame:
    """The 107 counties at full resolution in the metric CRS, index adcode, with census population."""
    frame = gpd.read_file(COUNTIES)
    frame["adcode"] = frame["adcode"].astype(str)
    frame = frame.set_index("adcode")[["name", "geometry"]]
    frame["population"] = [regions.county(code).population for code in frame.index]
    return frame.to_crs(cov.METRIC_CRS)


def open_clinics(eng=None) -> tuple[gpd.GeoSeries, bool]:
    """Points of the open fever clinics in the metric CRS, and whether any of them is demo data."""
    frame = queries.facilities(["fever_clinic"], None, eng)
    frame = frame[frame["status"] == "open"]
    points = gpd.GeoSeries(gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326").to_crs(cov.METRIC_CRS)
    return points, bool(frame["is_demo"].any()) if len(frame) else False


def _build(eng, version: str, distance_km: float) -> Coverage:
    counties = county_polygons()
    clinics, demo = open_clinics(eng)
    table, gaps = cov.county_coverage(counties, clinics, distance_km * 1000)
    table.insert(0, "name", counties["name"])
    members = {u.adcode: [c.adcode for c in regions.counties(u.adcode)] for u in regions.units()}
    units = cov.combine(table, members, {u.adcode: u.population for u in regions.units()})  # one rule: the census
    units.insert(0, "name", [regions.unit(code).display_name for code in units.index])
    province = cov.combine(table, {PROVINCE: list(table.index)}).iloc[0]
    return Coverage(version, distance_km, table, units, province, gaps, len(clinics), demo)


_coverage = store.per_version(_build)


def coverage(distance_km: float = cov.DEFAULT_DISTANCE_KM, eng=None) -> Coverage:
    """Coverage at a distance for the store's current data version (built once per process, version, distance)."""
    return _coverage(eng, float(distance_km))


def region_coverage(adcode: str, distance_km: float = cov.DEFAULT_DISTANCE_KM, eng=None) -> pd.Series:
    """The coverage row of one region (province, unit or county)."""
    c = coverage(distance_km, eng)
    region = regions.get(adcode)
    if region.level == "province":
        return c.province
    return (c.units if region.level == "unit" else c.counties).loc[adcode]


def _gaps_text(eng, version: str, distance_km: float) -> str:
    c = coverage(distance_km, eng)
    gaps = c.gaps[~c.gaps.is_empty]
    simple = gaps.simplify(GAP_TOLERANCE_M).to_crs("EPSG:4326")
    features = []
    for code, geom in simple.items():
        geom = shapely.set_precision(geom, 10**-DECIMALS)
        if geom.is_empty:
            continue
        features.append(
            {
                "type": "Feature",
                "id": code,
                "properties": {"adcode": code},
                "geometry": json.loads(shapely.to_geojson(geom)),
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":"))


_gaps = store.per_version(_gaps_text)


def gaps_geojson(distance_km: float = cov.DEFAULT_DISTANCE_KM, eng=None) -> str:
    """The uncovered part of each county as GeoJSON text (WGS84, simplified), one feature per county, id adcode."""
    return _gaps(eng, float(distance_km))


def gaps_url(distance_km: float = cov.DEFAULT_DISTANCE_KM, eng=None) -> str:
    """Where the browser gets the uncovered area; the version in the URL makes a new batch a new file."""
    eng = eng or store.engine()
    return f"/api/v1/coverage/gaps.geojson?distance_km={distance_km:g}&v={store.data_version(eng)}"


def _facility_totals(eng, version: str) -> dict:
    """Open facilities summed per county and per unit (analytics.adequacy.facility_sums), once per data version:
    a date step then costs no pass over the facility rows (100,000 of them in the scale data set)."""
    frame = queries.facilities(["fever_clinic", "pharmacy", "supply_point"], None, eng)
    return {
        "county": facility_sums(frame, "county_adcode"),
        "unit": facility_sums(frame, "unit_adcode"),
        "province": facility_sums(frame.assign(province=PROVINCE), "province"),
    }


facility_totals = store.per_version(_facility_totals)


def adequacy(
    day, level: str = "county", parent: str | None = None, distance_km: float | None = None, eng=None
) -> pd.DataFrame:
    """The adequacy (analytics.adequacy.table) of every region of a level on a day, its inputs read from the store:
    ``level`` "county" (all 107, or a unit's counties with ``parent``), "unit" (the 12 reporting units) or
    "province". Index: adcode (unique within a level: 610403 and 610581 are both a unit and a county, so ask for one
    level at a time)."""
    distance_km = distance_km or cov.DEFAULT_DISTANCE_KM
    covered = coverage(distance_km, eng)
    totals = facility_totals(eng)
    if level == "county":
        members = regions.counties(parent if parent and parent != PROVINCE else None)
        frame = pd.DataFrame(
            {"name": [r.name for r in members], "population": [r.population for r in members]},
            index=pd.Index([r.adcode for r in members], name="adcode"),
        )
        sums = totals["county"]
        cases = queries.on_day(day, "county", eng, parent=parent if parent and parent != PROVINCE else None)
        share = covered.counties["covered_share"]
    elif level == "unit":
        members = sorted(regions.units(), key=lambda r: r.adcode)
        frame = pd.DataFrame(
            {
                "name": [r.display_name for r in members],
                "population": [covered.units.loc[r.adcode, "population"] for r in members],
            },
            index=pd.Index([r.adcode for r in members], name="adcode"),
        )
        sums = totals["unit"]
        cases = queries.on_day(day, "unit", eng)
        share = covered.units["covered_share"]
    elif level == "province":
        frame = pd.DataFrame(
            {"name": [regions.province().name], "population": [covered.province["population"]]},
            index=pd.Index([PROVINCE], name="adcode"),
        )
        sums = totals["province"]
        summary = queries.summary(PROVINCE, day, eng)
        cases = pd.DataFrame(
            {
                "new_7d_avg": [None if summary["new_7d"] is None else summary["new_7d"] / 7],
                "active": [summary["active"]],
            },
            index=frame.index,
        )
        share = pd.Series({PROVINCE: covered.province["covered_share"]})
    else:
        raise ValueError(f"level: 应为 county、unit 或 province，收到 {level!r}")
    return adequacy_table(frame, sums, cases, share)


@lru_cache(maxsize=1)
def county_centroids() -> pd.DataFrame:
    """Index county adcode: lon, lat of each county's area centroid, computed in the metric CRS (EPSG:4545) from the
    full-resolution polygons, then given in WGS84 degrees (the mask transfers' distances run between these)."""
    polygons = county_polygons()
    points = gpd.GeoSeries(polygons.geometry.centroid, crs=polygons.crs).to_crs("EPSG:4326")
    return pd.DataFrame({"lon": points.x.to_numpy(), "lat": points.y.to_numpy()}, index=polygons.index)


@cache.memoize
def mask_transfers(day, parent: str | None = None, eng=None):
    """Suggested mask transfers on ``day`` (analytics.allocation.Suggestion, ``demo`` set) among the province's 107
    counties, or among a unit's counties (``parent``: the unit's adcode): stock and use per day from the adequacy
    table, so its 口罩可用天数 and the transfers' safe level are the same numbers. Memoised per data version."""
    parent = None if parent in (None, PROVINCE) else parent
    table = adequacy(day, "county", parent, eng=eng)
    counties = pd.DataFrame(
        {"name": table["name"], "stock": table["mask_stock"], "use_per_day": table["mask_use_per_day"]},
        index=table.index,
    )
    counties = counties.join(county_centroids(), how="left")
    return dataclasses.replace(allocation.suggest(counties), demo=bool(table["demo"].any()))
