"""Geography: boundaries for the browser, the region hierarchy, populations and the gazetteer."""

from __future__ import annotations

import gzip
import json

import pytest
import shapely

from geo import build, gazetteer, regions

pytestmark = pytest.mark.once  # boundaries and the gazetteer: no store

ASSETS = build.ASSETS


def _shapes(name):
    data = json.loads((ASSETS / f"{name}.geojson").read_text(encoding="utf-8"))
    return {f["properties"]["adcode"]: shapely.geometry.shape(f["geometry"]) for f in data["features"]}


def test_committed_boundaries_are_what_the_build_makes(tmp_path):
    build.build(tmp_path, tmp_path / "regions.csv")
    for name in ("counties", "units", "province", "china"):
        assert (tmp_path / f"{name}.geojson").read_bytes() == (ASSETS / f"{name}.geojson").read_bytes(), name
    assert (tmp_path / "regions.csv").read_text() == regions.REGIONS_CSV.read_text()


def test_county_layer_is_a_gap_free_coverage_small_enough_for_the_browser():
    counties = _shapes("counties")
    assert len(counties) == 107
    geoms = list(counties.values())
    assert all(g.is_valid for g in geoms)
    assert shapely.coverage_is_valid(geoms)  # no overlaps, shared edges identical
    province = _shapes("province")["610000"]
    assert abs(shapely.union_all(geoms).area - province.area) < 1e-9
    assert len(gzip.compress((ASSETS / "counties.geojson").read_bytes(), 9)) <= 200_000


def test_reporting_units_cover_the_province_and_split_out_yangling_and_hancheng():
    units = _shapes("units")
    assert sorted(units) == sorted(r.adcode for r in regions.units())
    assert len(units) == 12
    counties = _shapes("counties")
    assert (
        units["610403"].equals_exact(counties["610403"], 1e-9)
        or units["610403"].difference(counties["610403"]).area < 1e-9
    )
    assert units["610400"].intersection(counties["610403"]).area < 1e-6  # 咸阳 is drawn without 杨凌
    assert units["610500"].intersection(counties["610581"]).area < 1e-6  # 渭南 without 韩城
    assert abs(sum(u.area for u in units.values()) - _shapes("province")["610000"].area) < 1e-6


def test_hierarchy_and_population():
    assert len(regions.units()) == 12
    assert len(regions.counties()) == 107
    assert regions.province().population == 39_528_999
    assert sum(u.population for u in regions.units()) == 39_528_999
    assert sum(c.population for c in regions.counties()) == 39_528_999
    assert [c.adcode for c in regions.counties("610403")] == ["610403"]
    assert len(regions.counties("610400")) == 13 and len(regions.counties("610500")) == 10
    assert regions.get("610403").level == "unit" and regions.county("610403").name == "杨陵区"
    assert regions.unit_of("610113").adcode == "610100"
    assert regions.get("610500").display_name == "渭南市（不含韩城市）"
    assert regions.get("610100").population == 12_952_907  # the census bulletin's figure, the reporting basis


@pytest.mark.parametrize(
    "query, adcode",
    [
        ("西安", "610100"),
        ("西安市", "610100"),
        ("雁塔", "610113"),
        ("雁塔区", "610113"),
        ("西安市雁塔区", "610113"),
        ("陕西省西安市雁塔区", "610113"),
        ("西安雁塔", "610113"),
        (" 雁 塔 区 ", "610113"),
        ("杨凌", "610403"),
        ("杨凌示范区", "610403"),
        ("杨陵区", "610403"),
        ("咸阳市杨陵区", "610403"),
        ("韩城", "610581"),
        ("渭南市韩城市", "610581"),
        ("715400", "610581"),
        ("610d12", "610403"),
        ("610125", "610118"),
        ("户县", "610118"),
        ("610427", "610482"),
        ("彬县", "610482"),
        ("610928", "610981"),
        ("610113", "610113"),
        ("６１０１１３", "610113"),
        ("610113000000", "610113"),
        ("渭南市（不含韩城）", "610500"),
        ("陕西省", "610000"),
        ("全省", "610000"),
        ("乾县", "610424"),
    ],
)
def test_gazetteer_resolves(query, adcode):
    found = gazetteer.resolve(query)
    assert found.status == "resolved", found
    assert found.adcode == adcode


def test_gazetteer_says_where_an_old_code_went():
    found = gazetteer.resolve("610125")
    assert "户县" in found.note and "610118" in found.note


@pytest.mark.parametrize("query", ["高新区", "经开区", "汉中市高新区", "北京", "999999", "", "渭"])
def test_gazetteer_never_guesses(query):
    found = gazetteer.resolve(query)
    assert found.status in ("unknown", "ambiguous")
    assert found.adcode is None and found.note


@pytest.mark.parametrize(
    "query, unit, zone",
    [
        ("西安市高新区", "610100", "高新区"),
        ("西咸新区", "610100", "西咸新区"),
        ("曲江新区", "610100", "曲江新区"),
        ("陕西省西安市国际港务区", "610100", "国际港务区"),
        ("宝鸡高新区", "610300", "高新区"),
        ("沣东新城", "610100", "西咸新区"),
    ],
)
def test_functional_zones_count_under_the_unit_they_are_reported_under(query, unit, zone):
    found = gazetteer.resolve(query)
    assert found.ok and found.adcode == unit and found.zone == zone and found.level == "unit"


@pytest.mark.parametrize(
    "address, adcode, zone, status",
    [
        ("西安市雁塔区曲江新区某小区3栋", "610113", "曲江新区", "resolved"),  # a county named wins over a zone
        ("西安市碑林区雁塔路12号", "610103", None, "resolved"),  # a street named after a district is no district
        ("陕西省西安市高新区某小区", "610100", "高新区", "partial"),
        ("西安市某街道", "610100", None, "partial"),
        ("长安区韦曲街道", "610116", None, "resolved"),
        ("户县甘亭镇", "610118", None, "resolved"),
        ("", "610000", None, "partial"),
        ("北京市朝阳区某小区", "610000", None, "partial"),
        ("杨凌示范区某小区", "610403", None, "resolved"),  # a unit that is one county: placed, not 区县不详
        ("陕西省韩城市新城街道", "610581", None, "resolved"),
    ],
)
def test_an_address_is_placed_at_the_lowest_level_it_names(address, adcode, zone, status):
    found = gazetteer.locate(address)
    assert (found.adcode, found.zone, found.status) == (adcode, zone, status)
    if status == "partial" and adcode != "610000":
        assert len(found.candidates) == len(regions.counties(adcode))  # the counties it could be, for a person


def test_unknown_names_come_with_candidates():
    assert ("610100", "西安市") in gazetteer.resolve("高新区").candidates
    assert {c for c, _ in gazetteer.resolve("渭").candidates} >= {"610500", "610302", "610404"}
