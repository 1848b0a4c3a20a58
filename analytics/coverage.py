"""Fever-clinic coverage: the share of each county's population within a straight-line distance of an open clinic.

Everything is computed in metres, in CGCS2000 / 3-degree Gauss-Kruger CM 108E (EPSG:4545), never in degrees: its
central meridian, 108°E, lies within half a degree of the middle of Shaanxi (105.5-111.3°E), so at the province's
far east and west edges a distance is off by at most ~0.11 % and an area by ~0.23 % (a 10 km buffer is 9.99 km on
the ground there). A UTM zone would not do: Shaanxi straddles 48N and 49N, and one of them would put the other
edge 5.5° from its central meridian (~0.4 % in distance).

Reach is a straight-line buffer around each open clinic, not a road distance. Clinics outside Shaanxi are not in
the data, so counties on the border may be better served than shown.

Where people live inside a county is not known (the census gives each county's total only). The assumption lives
in one function, ``covered_population``: people are spread evenly over the county's area, so the covered share of
the population equals the covered share of the area. A population grid can replace that function without touching
anything else.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

METRIC_CRS = "EPSG:4545"  # CGCS2000 / 3-degree Gauss-Kruger CM 108E, metres
DISTANCES_KM = (5, 10, 20, 30)
DEFAULT_DISTANCE_KM = 10
BUFFER_SEGMENTS = 32  # vertices per quarter circle: the buffer's area is within 0.02 % of the true circle's
ASSUMPTION = "县内人口按面积均匀分布（仅有各县人口总数），覆盖人口占比 = 覆盖面积占比"
DISTANCE_NOTE = "直线距离，非道路距离；省外发热门诊不在数据中，边界县覆盖可能偏低"


def covered_population(counties: gpd.GeoDataFrame, covered) -> pd.Series:
    """People of each county who live inside ``covered`` (a shapely geometry in the counties' metric CRS).

    THE population assumption, in one place: people are spread evenly over the county, so the covered people are
    population x covered area / county area. To use a population grid instead, sum the grid cells' people that
    fall inside ``covered`` and each county here; nothing else has to change.
    """
    inside = shapely.intersection(counties.geometry.values, covered)
    share = np.minimum(shapely.area(inside) / shapely.area(counties.geometry.values), 1.0)  # overlay rounding
    return pd.Series(counties["population"].to_numpy() * share, index=counties.index)


def reach(points: gpd.GeoSeries, distance_m: float):
    """The area within ``distance_m`` of any of the points (one geometry; empty when there are none)."""
    if len(points) == 0:
        return shapely.Polygon()
    return shapely.union_all(shapely.buffer(points.values, distance_m, quad_segs=BUFFER_SEGMENTS))


def county_coverage(
    counties: gpd.GeoDataFrame, clinics: gpd.GeoSeries, distance_m: float
) -> tuple[pd.DataFrame, gpd.GeoSeries]:
    """Per county (index as ``counties``, which has ``population`` and a metric ``geometry``):
    area_km2, covered_km2, population, covered_population, covered_share (0..1); and each county's uncovered part.

    ``clinics``: the open fever clinics' points in the same CRS, wherever they are (a clinic in the neighbouring
    county serves this one too).
    """
    assert counties.crs is not None and counties.crs.is_projected, "coverage needs a metric (projected) CRS"
    covered = reach(clinics, distance_m)
    area = shapely.area(counties.geometry.values)
    covered_area = shapely.area(shapely.intersection(counties.geometry.values, covered))
    people = covered_population(counties, covered)
    table = pd.DataFrame(
        {
            "area_km2": area / 1e6,
            "covered_km2": covered_area / 1e6,
            "population": counties["population"].astype(float).to_numpy(),
            "covered_population": people.to_numpy(),
        },
        index=counties.index,
    )
    table["covered_share"] = np.where(
        table["population"] > 0, table["covered_population"] / table["population"], np.nan
    )
    gaps = gpd.GeoSeries(shapely.difference(counties.geometry.values, covered), index=counties.index, crs=counties.crs)
    return table, gaps


def combine(
    table: pd.DataFrame, members: dict[str, list[str]], population: dict[str, int] | None = None
) -> pd.DataFrame:
    """Coverage of larger regions from their counties' rows: sums of areas and people, the share of the sums.
    ``members``: region -> the county indices it is made of. ``population``: each region's residents as its case
    figures count them, where that differs from its counties' sum (西安's census figure includes the 769,627
    residents of 西咸新区, who live in 咸阳's counties): the covered share stays the counties', applied to it."""
    rows = {}
    for region, codes in members.items():
        part = table.loc[[c for c in codes if c in table.index]]
        rows[region] = part[["area_km2", "covered_km2", "population", "covered_population"]].sum()
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["covered_share"] = np.where(out["population"] > 0, out["covered_population"] / out["population"], np.nan)
    if population:
        out["population"] = [float(population.get(region, out.loc[region, "population"])) for region in out.index]
        out["covered_population"] = out["covered_share"].fillna(0) * out["population"]
    return out
