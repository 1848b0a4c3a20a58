"""The demo facility set: deterministic, inside the real county polygons, sized by population."""

from __future__ import annotations

import json

import shapely

from data import demo_facilities
from geo import regions


def test_demo_facilities_are_deterministic_and_inside_their_counties():
    first, second = demo_facilities.generate(), demo_facilities.generate()
    assert first.equals(second)
    features = json.loads(demo_facilities.COUNTIES.read_text(encoding="utf-8"))["features"]
    polygons = {str(f["properties"]["adcode"]): shapely.geometry.shape(f["geometry"]) for f in features}
    for adcode, group in first.groupby("county_adcode"):
        assert shapely.contains_xy(polygons[adcode], group.lon.values, group.lat.values).all(), adcode


def test_demo_facilities_follow_population():
    points = demo_facilities.generate()
    counts = points.groupby(["county_adcode", "kind"]).size().unstack(fill_value=0)
    assert len(counts) == 107 and (counts > 0).all().all()  # every county has one of each
    total = 39_528_999 / 100_000
    assert abs(counts["fever_clinic"].sum() - total) / total < 0.05
    assert abs(counts["pharmacy"].sum() - 5 * total) / (5 * total) < 0.05
    assert abs(counts["supply_point"].sum() - 4 * total) / (4 * total) < 0.05
    yanta = regions.county("610113").population / 100_000
    assert abs(counts.loc["610113", "fever_clinic"] - yanta) <= 1
    assert points.is_demo.all()
    clinics = points[points.kind == "fever_clinic"]
    assert {"hospital_level", "beds", "daily_capacity", "daily_visits"} <= set(clinics["attrs"].iloc[0])


def test_many_points_become_clusters_that_refine_as_the_map_zooms_in():
    """100,000 facilities cannot go to the browser one by one: above POINT_LIMIT a kind is drawn as clusters over
    the visible box; zoomed far enough in, the points themselves come back with their details."""
    from data import scale
    from figures import maps

    points = scale.facilities(40_000, seed=7)
    pharmacies = points[points.kind == "pharmacy"]
    assert len(pharmacies) > maps.POINT_LIMIT
    province = regions.province().bounds
    traces = {t["name"].split("（")[0]: t for t in maps.facility_traces(points, province)}
    clusters = traces["定点药店"]
    counts = [n for n, _ in clusters["customdata"]]
    assert sum(counts) == len(pharmacies)  # every point is in exactly one cluster: nothing lost or counted twice
    assert len(counts) < len(pharmacies) / 10 and "网格聚合" in clusters["name"] and "演示数据" in clusters["name"]
    # zoomed into 雁塔区's corner of 西安: fewer points than the limit, drawn one by one with name and address
    box = (108.90, 34.18, 108.98, 34.24)
    near = maps.facility_traces(points, box)
    pharmacy = next(t for t in near if t["name"].startswith("定点药店"))
    inside = pharmacies[pharmacies.lon.between(box[0], box[2]) & pharmacies.lat.between(box[1], box[3])]
    assert 0 < len(inside) <= maps.POINT_LIMIT
    assert len(pharmacy["lon"]) == len(inside) and "惠民大药房" in pharmacy["customdata"][0][0]
