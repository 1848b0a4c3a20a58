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
