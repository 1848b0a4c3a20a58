"""资源保障: fever-clinic coverage and supply adequacy, checked against figures worked out by hand here, by other
means than the app's (geodesic distances on a grid instead of buffers; sums of hand-made rows), and in the browser."""

from __future__ import annotations

import io
import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod, Transformer
from sqlalchemy import select
from waiting import map_drawn

from analytics import adequacy as ad
from analytics import coverage as cov
from data import catalogue, demo_facilities, queries, resources, store
from data.ingest import pipeline

GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid


# ---- coverage: a hand-built square county ------------------------------------------------------------------
def _square(side_km: float, population: int) -> gpd.GeoDataFrame:
    """A square county of the given side, south-west corner at (500 km, 3800 km) in EPSG:4545."""
    x0, y0, s = 500_000, 3_800_000, side_km * 1000
    return gpd.GeoDataFrame(
        {"population": [population]},
        index=["999999"],
        geometry=[shapely.box(x0, y0, x0 + s, y0 + s)],
        crs=cov.METRIC_CRS,
    )


def _points(*xy) -> gpd.GeoSeries:
    return gpd.GeoSeries([shapely.Point(500_000 + x * 1000, 3_800_000 + y * 1000) for x, y in xy], crs=cov.METRIC_CRS)


def test_square_county_with_one_clinic_inside_covers_a_circle_of_its_people():
    county = _square(20, 1_000_000)
    table, gaps = cov.county_coverage(county, _points((10, 10)), 5_000)  # centre, 5 km
    row = table.loc["999999"]
    circle = math.pi * 5**2  # km², inside the 400 km² square
    assert row.area_km2 == pytest.approx(400)
    assert row.covered_km2 == pytest.approx(circle, rel=1e-3)  # a 128-sided circle: 0.04 % short
    assert row.covered_share == pytest.approx(circle / 400, rel=1e-3)  # people spread evenly: share of area
    assert row.covered_population == pytest.approx(1_000_000 * circle / 400, rel=1e-3)
    assert gaps.loc["999999"].area / 1e6 == pytest.approx(400 - circle, rel=1e-3)  # the map's uncovered part


def test_a_clinic_next_door_covers_a_segment_and_none_covers_nothing():
    county = _square(20, 1_000_000)
    r, d = 5.0, 3.0  # a clinic 3 km outside the west edge, in the neighbouring county, reaches in 2 km
    segment = r * r * math.acos(d / r) - d * math.sqrt(r * r - d * d)
    table, _ = cov.county_coverage(county, _points((-d, 10)), r * 1000)
    assert table.loc["999999"].covered_km2 == pytest.approx(segment, rel=2e-3)
    corner, _ = cov.county_coverage(county, _points((0, 0), (0, 0.001)), r * 1000)  # two clinics at a corner
    assert corner.loc["999999"].covered_share == pytest.approx(math.pi * r * r / 4 / 400, rel=1e-3)
    none, gaps = cov.county_coverage(county, _points(), r * 1000)
    assert none.loc["999999"].covered_share == 0 and gaps.loc["999999"].area == pytest.approx(400e6)


def test_coverage_refuses_degrees():
    county = _square(20, 1).to_crs("EPSG:4326")
    with pytest.raises(AssertionError, match="metric"):
        cov.county_coverage(county, _points((1, 1)).to_crs("EPSG:4326"), 5_000)


# ---- coverage: a real county, by geodesic distances on a grid ----------------------------------------------
def _open_clinics_from_store() -> np.ndarray:
    """lon/lat of the open fever clinics of active batches, read straight from the store."""
    f, b = store.facilities, store.batches
    with store.engine().connect() as conn:
        rows = conn.execute(
            select(f.c.lon, f.c.lat)
            .join(b, b.c.id == f.c.batch_id)
            .where(b.c.status == "active", f.c.kind == "fever_clinic", f.c.status == "open")
        ).all()
    return np.array(rows, dtype=float)


@pytest.mark.once  # geometry; the clinics come from the store as in test_adequacy_of_two_counties... (both passes)
@pytest.mark.parametrize("adcode,distance_km", [("610122", 10), ("610116", 5)])  # 蓝田县, 长安区
def test_real_county_coverage_equals_a_geodesic_grid_count(app_module, adcode, distance_km):
    """Lay a 250 m grid over the county (equal-area cells in the metric plane), and count the cells whose centre
    lies within the distance of an open clinic, measured on the ellipsoid (pyproj.Geod), not through a buffer."""
    feature = next(
        f
        for f in json.loads(demo_facilities.COUNTIES.read_text(encoding="utf-8"))["features"]
        if str(f["properties"]["adcode"]) == adcode
    )
    to_metric = Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True)
    to_degrees = Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
    polygon = shapely.transform(shapely.geometry.shape(feature["geometry"]), to_metric.transform, interleaved=False)
    step = 250.0
    minx, miny, maxx, maxy = polygon.bounds
    xs, ys = np.meshgrid(np.arange(minx + step / 2, maxx, step), np.arange(miny + step / 2, maxy, step))
    inside = shapely.contains_xy(polygon, xs.ravel(), ys.ravel())
    lon, lat = to_degrees.transform(xs.ravel()[inside], ys.ravel()[inside])
    clinics = _open_clinics_from_store()
    # only the clinics that can be within the distance of some cell: the rest leave every cell's count as it is (the
    # margin is far beyond the projection's scale error, so none of those is left out)
    clinic_x, clinic_y = to_metric.transform(clinics[:, 0], clinics[:, 1])
    near = shapely.distance(polygon, shapely.points(clinic_x, clinic_y)) <= 1.5 * distance_km * 1000 + 2000
    nearest = np.full(len(lon), np.inf)
    for c_lon, c_lat in clinics[near]:
        _, _, metres = GEOD.inv(np.full(len(lon), c_lon), np.full(len(lat), c_lat), lon, lat)
        nearest = np.minimum(nearest, metres)
    by_hand = float(np.mean(nearest <= distance_km * 1000))
    population = int(
        pd.read_csv(demo_facilities.POPULATION, dtype={"adcode": str}).set_index("adcode").population[adcode]
    )

    app = resources.coverage(distance_km).counties.loc[adcode]
    assert 0.05 < by_hand < 0.999  # a county partly covered, so the check means something
    assert app.covered_share == pytest.approx(by_hand, abs=0.005)
    assert app.population == population
    assert app.covered_population == pytest.approx(population * app.covered_share)
    # the panel and the API say the same
    body = app_module.server.test_client().get(f"/api/v1/coverage?level=county&distance_km={distance_km}").get_json()
    row = next(r for r in body if r["adcode"] == adcode)
    assert row["covered_share"] == pytest.approx(app.covered_share, abs=1e-6) and row["demo"] is True


def test_unit_and_province_coverage_are_sums_of_their_counties(app_module):
    c = resources.coverage(10)
    xian = c.counties.loc[[a for a in c.counties.index if a.startswith("6101")]]
    assert c.units.loc["610100", "covered_share"] == pytest.approx(
        xian.covered_population.sum() / xian.population.sum()
    )
    assert c.province["population"] == c.counties.population.sum()
    assert (
        resources.coverage(30).province["covered_share"]
        > c.province["covered_share"]
        > resources.coverage(5).province["covered_share"]
    )
    assert resources.coverage(10) is c  # computed once per data version and distance


def test_uncovered_area_file_is_simplified_wgs84_per_county(client):
    response = client.get("/api/v1/coverage/gaps.geojson?distance_km=10")
    assert response.status_code == 200 and "geo+json" in response.content_type
    assert "max-age" in response.headers["Cache-Control"]
    gaps = json.loads(response.get_data(as_text=True))
    c = resources.coverage(10)
    uncovered = c.counties[c.counties.covered_share < 0.999]
    ids = {f["id"] for f in gaps["features"]}
    assert set(uncovered.index) <= ids
    shape = shapely.geometry.shape(next(f for f in gaps["features"] if f["id"] == "610122")["geometry"])
    minx, miny, maxx, maxy = shape.bounds
    assert 108 < minx < maxx < 110 and 33 < miny < maxy < 35  # degrees for the browser
    full = c.gaps.loc["610122"].area / 1e6
    drawn = gpd.GeoSeries([shape], crs="EPSG:4326").to_crs(cov.METRIC_CRS).area.iloc[0] / 1e6
    assert drawn == pytest.approx(full, rel=0.03)  # simplified, not changed
    assert len(response.get_data()) < 600_000
    bad = client.get("/api/v1/coverage?distance_km=7")
    assert bad.status_code == 400 and "distance_km" in bad.get_json()["error"]


# ---- adequacy: two counties from hand-made rows -------------------------------------------------------------
CASES = """地区,日期,累计确诊,累计治愈,累计死亡
{rows}"""
FACILITIES = """类型,名称,区县,经度,纬度,日接诊能力,口罩库存,状态
发热门诊,雁塔测试医院发热门诊,雁塔区,{y0},{y1},100,,开放
发热门诊,雁塔测试二院发热门诊,雁塔区,{y2},{y3},50,,暂停
定点药店,雁塔测试药房一店,雁塔区,{y2},{y3},,3000,开放
定点药店,雁塔测试药房二店,雁塔区,{y0},{y1},,1000,开放
定点药店,雁塔测试药房三店,雁塔区,{y0},{y1},,9999,暂停
物资保障点,雁塔测试投放点,雁塔区,{y0},{y1},,,开放
发热门诊,长安测试医院发热门诊,长安区,{c0},{c1},10,,开放
定点药店,长安测试药房,长安区,{c0},{c1},,100,开放
"""


@pytest.fixture(scope="module")
def hand_store(new_store):
    """A store with only hand-made rows: daily cumulative counts of 雁塔区 and 长安区 for 1-10 Feb 2020, and a few
    facilities in each (one clinic and one pharmacy of 雁塔 closed)."""
    eng = store.engine(new_store("adequacy"))
    yanta_cum = [1, 2, 4, 4, 7, 9, 12, 12, 15, 20]  # 10 Feb: 7-day sum = 20 - 4 (3 Feb) = 16
    changan_cum = [0, 0, 0, 8, 16, 24, 32, 40, 48, 56]  # 7-day sum = 56 - 0 = 56, 8 a day
    rows = []
    for i, (y, c) in enumerate(zip(yanta_cum, changan_cum)):
        day = f"2020-02-{i + 1:02d}"
        rows.append(f"雁塔区,{day},{y},{1 if i >= 5 else 0},0")
        rows.append(f"长安区,{day},{c},{2 if i >= 8 else 0},{1 if i == 9 else 0}")
    assert pipeline.ingest(CASES.format(rows="\n".join(rows)).encode(), "县级日报.csv", eng=eng).accepted == 20
    shapes = pipeline.county_shapes()
    y = shapes["610113"].representative_point()
    c = shapes["610116"].representative_point()
    text = FACILITIES.format(
        y0=f"{y.x:.6f}", y1=f"{y.y:.6f}", y2=f"{y.x + 0.005:.6f}", y3=f"{y.y:.6f}", c0=f"{c.x:.6f}", c1=f"{c.y:.6f}"
    )
    report = pipeline.ingest(text.encode(), "设施清单.csv", eng=eng)
    assert report.accepted == 8, [i.reasons for i in report.issues]
    return eng


def test_adequacy_of_two_counties_equals_the_hand_sums(hand_store):
    population = pd.read_csv(demo_facilities.POPULATION, dtype={"adcode": str}).set_index("adcode").population
    frame = resources.adequacy("2020-02-10", "county", "610100", eng=hand_store)
    yanta, changan = frame.loc["610113"], frame.loc["610116"]
    p = population["610113"]
    assert yanta.clinics == 1 and yanta.clinic_capacity == 100  # the closed clinic does not count
    assert yanta.new_7d_avg == pytest.approx(16 / 7)
    assert yanta.active == 20 - 1 - 0
    assert yanta.clinic_load == pytest.approx(16 / 7 / 100)
    assert yanta.mask_stock == 4000  # 3000 + 1000; the closed pharmacy's 9,999 does not count
    assert yanta.masks_per_1000 == pytest.approx(4000 / p * 1000)
    assert yanta.stock_days == pytest.approx(4000 / (p * 20 / 1000))  # 20 masks per 1,000 a day, assumed
    assert yanta.supply_per_10k == pytest.approx(1 / p * 10_000)
    q = population["610116"]
    assert changan.clinic_capacity == 10 and changan.new_7d_avg == pytest.approx(8)
    assert changan.active == 56 - 2 - 1
    assert changan.clinic_load == pytest.approx(0.8)  # 8 a day on 10 a day of capacity
    assert changan.stock_days == pytest.approx(100 / (q * 20 / 1000))
    assert changan.supply_points == 0 and changan.supply_per_10k == 0
    assert not yanta.demo and not changan.demo  # ingested rows, not the demo set
    # a county of the unit without any of the rows: no cases reported, no load (never 0)
    assert pd.isna(frame.loc["610112", "clinic_load"]) and frame.loc["610112", "clinics"] == 0


def test_flags_appear_beyond_their_thresholds_with_the_numbers(hand_store):
    frame = resources.adequacy("2020-02-10", "county", "610100", eng=hand_store)
    changan = frame.loc["610116"]
    assert changan.flagged
    assert "发热门诊负荷 80%（≥80%）" in changan.flag  # at the threshold: flagged
    assert "口罩可用天数 0.0天（<7.0天）" in changan.flag
    assert "每万人物资保障点 0.00处（<0.30处）" in changan.flag
    yanta = frame.loc["610113"]
    assert "发热门诊负荷" not in yanta.flag  # 2 %
    assert "口罩可用天数" in yanta.flag  # 4,000 masks for 2 million people
    # a day earlier 长安 had 6.86 a day: below the load threshold, so that flag goes
    earlier = resources.adequacy("2020-02-09", "county", "610100", eng=hand_store).loc["610116"]
    assert earlier.clinic_load == pytest.approx(48 / 7 / 10) and "发热门诊负荷" not in earlier.flag
    # thresholds come from one place
    assert ad.thresholds_text().startswith("发热门诊负荷≥80%；口罩可用天数<7.0天")


def test_adequacy_of_units_and_province_add_up(app_module):
    units = resources.adequacy("2020-02-15", "unit")
    assert len(units) == 12 and units.index.is_unique
    counties = resources.adequacy("2020-02-15", "county")
    assert len(counties) == 107
    for column in ("clinics", "clinic_capacity", "mask_stock", "supply_points"):
        assert units[column].sum() == counties[column].sum()
    xian = units.loc["610100"]
    s = queries.summary("610100", "2020-02-15")
    assert xian.new_7d_avg == pytest.approx(s["new_7d"] / 7) and xian.active == s["active"]
    assert xian.clinic_load == pytest.approx(s["new_7d"] / 7 / xian.clinic_capacity)
    province = resources.adequacy("2020-02-15", "province").iloc[0]
    assert province.clinic_capacity == units.clinic_capacity.sum() and province.demo


def test_adequacy_api(client):
    rows = client.get("/api/v1/adequacy?level=unit&date=2020-02-15").get_json()
    xian = next(r for r in rows if r["adcode"] == "610100")
    assert {"clinic_load", "stock_days", "masks_per_1000", "supply_per_10k", "flag", "flagged", "demo"} <= set(xian)
    assert xian["demo"] is True
    csv = client.get("/api/v1/adequacy?level=county&parent=610100&date=2020-02-15&format=csv")
    assert len(pd.read_csv(io.BytesIO(csv.data), dtype={"adcode": str})) == 13
    assert client.get("/api/v1/adequacy?level=city").status_code == 400
    assert "parent" in client.get("/api/v1/adequacy?level=unit&parent=610100").get_json()["error"]


# ---- the panel and the map layer ----------------------------------------------------------------------------
def test_panel_lists_the_parts_of_the_chosen_region(app_module):
    import views.resources as panel

    province = panel.panel_rows("610000", "2020-02-15", 10)
    assert len(province["rows"]) == 12 and province["title"].startswith("各市（区）")
    shares = [r["cells"]["covered_share"][0] for r in province["rows"]]
    assert shares[0] != "无数据"
    county = panel.panel_rows("610113", "2020-02-15", 20, "clinic_load", False)
    assert len(county["rows"]) == 13 and county["selected"] == "610113"
    assert all(not r["cells"]["uncovered_population"][0].startswith("-") for r in county["rows"])  # never -0
    assert county["rows"][0]["cells"]["clinic_load"] == ("无数据", False)  # no county cases: said in words
    lines = panel.summary_text("610100", "2020-02-15", 10)
    assert lines[0].startswith("西安市：距开放发热门诊直线10公里内")
    assert panel.percent(0.796) == "79%" and panel.down(6.98, 1) == "6.9"  # never rounded up over a threshold


def test_gap_layer_in_the_map_figure(app_module):
    import views.maps as map_views

    fig = map_views.build_map("610600", "2020-02-15", "confirmed_cum", ["coverage_gap", "fever_clinic"], 20)
    gap = fig["data"][5]
    assert gap["geojson"].startswith("/api/v1/coverage/gaps.geojson?distance_km=20&v=")  # a URL, not the shapes
    assert "20公里外" in gap["name"] and "演示数据" in gap["name"]
    assert set(gap["locations"]) == set(resources.coverage(20).counties.query("covered_share < 0.999").index)
    assert fig["data"][6]["name"] == "发热门诊（演示数据）"
    assert len(json.dumps(fig)) < 200_000
    without = map_views.build_map("610600", "2020-02-15", "confirmed_cum", ["fever_clinic"])
    assert without["data"][5]["name"] == "发热门诊（演示数据）"


def _dark_pixels(path) -> int:
    """Pixels of the map tinted by the uncovered-area fill (dark slate at half opacity over light colours; over the
    case scale's cream the mix is a little warm, so blue may fall a few levels below red)."""
    from PIL import Image

    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(((r < 150) & (g < 150) & (b < 160) & (b >= r - 12) & (abs(r - g) < 40) & (r > 60)).sum())


def test_uncovered_area_draws_on_the_map_and_follows_the_distance(server_url, page, artifacts):
    page.goto(f"{server_url}/?region=610600&date=2020-02-15&layers=fever_clinic")
    page.wait_for_selector("#region-map .maplibregl-canvas", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#region-map .js-plotly-plot')?.data?.length >= 6")
    map_drawn(page)
    map_box = page.locator("#region-map").bounding_box()
    page.screenshot(path=str(artifacts / "coverage_map_off.png"), clip=map_box)

    page.get_by_label("发热门诊未覆盖区域").check()
    page.wait_for_function(
        "() => (document.querySelector('#region-map .js-plotly-plot').data[5].name || '').includes('10公里外')",
        timeout=20_000,
    )
    map_drawn(page)
    page.screenshot(path=str(artifacts / "coverage_map_10km.png"), clip=map_box)
    assert "layers=fever_clinic%2Ccoverage_gap" in page.url or "coverage_gap" in page.url
    assert any("/api/v1/coverage/gaps.geojson?distance_km=10" in u for u in page.requests)

    page.locator(".resources").scroll_into_view_if_needed()
    page.get_by_label("30公里").check()
    page.wait_for_function(
        "() => (document.querySelector('#region-map .js-plotly-plot').data[5].name || '').includes('30公里外')",
        timeout=20_000,
    )
    page.wait_for_function("() => document.querySelector('#adequacy-title').textContent.includes('30公里')")
    assert "distance=30" in page.url
    page.locator(".resources").screenshot(path=str(artifacts / "resources_panel_30km.png"))
    page.evaluate("() => window.scrollTo(0, 0)")
    map_drawn(page)
    page.screenshot(path=str(artifacts / "coverage_map_30km.png"), clip=page.locator("#region-map").bounding_box())

    off, at10, at30 = (_dark_pixels(artifacts / f"coverage_map_{n}.png") for n in ("off", "10km", "30km"))
    assert at10 > off + 20_000  # the uncovered area is drawn: a large dark tint where there was none
    assert at30 < at10  # wider reach, less uncovered
    assert not page.errors


def test_panel_table_sorts_and_selects(server_url, page):
    page.goto(f"{server_url}/?region=610100&date=2020-02-15")
    page.locator(".resources").scroll_into_view_if_needed()  # below the fold: it fills once scrolled to
    table = page.locator("#adequacy-table")
    table.locator("tbody tr").first.wait_for(timeout=30_000)
    assert table.locator("tbody tr").count() == 13
    table.get_by_role("button", name="口罩可用天数").click()
    page.wait_for_function(
        "() => document.querySelector('#adequacy-table th[aria-sort=\"ascending\"]')"
        "?.textContent.includes('口罩可用天数')"
    )
    days = [float(t) for t in table.locator("tbody tr td:nth-child(10)").all_inner_texts()]
    assert days == sorted(days)
    table.get_by_role("button", name="雁塔区", exact=True).click()
    page.wait_for_function("() => document.querySelector('#kpi-region').textContent === '雁塔区'")
    page.wait_for_url(lambda url: "region=610113" in url)
    assert "演示数据" in page.locator(".resources").inner_text()


def test_download_has_every_number_behind_the_flags(app_module):
    import views.resources as panel

    table = panel.download_table("610600", "2020-02-15", 20)
    frame = resources.adequacy("2020-02-15", "county", "610600", 20)
    assert list(table["地区代码"]) == list(frame.index) and (table["可达距离（公里，直线）"] == 20).all()
    row = table.set_index("地区代码").loc["610628"]  # 富县
    assert row["口罩可用天数"] == pytest.approx(frame.loc["610628", "stock_days"], abs=1e-6)
    assert row["提示"] == frame.loc["610628", "flag"] and row["演示数据"] == "是"
    assert "每日消耗（只，假定）" in table.columns


def test_view_state_keeps_the_distance_and_the_gap_layer():
    from layouts import view_state

    state = view_state.parse(
        {"region": "610600", "layers": "coverage_gap,fever_clinic", "distance": "20"}, "2020-01-22", "2020-12-07"
    )
    assert state.distance == 20 and state.layers == ("fever_clinic", "coverage_gap")
    assert view_state.parse({"distance": "7"}, "2020-01-22", "2020-12-07").distance == 10  # not offered: default
    assert view_state.parse({}, "2020-01-22", "2020-12-07").distance == view_state.URL_DEFAULTS["distance"]


def test_public_callers_get_no_county_case_figures_in_adequacy(client, monkeypatch):
    import security
    from api.resources import public_county

    row = {
        "adcode": "610116",
        "new_7d_avg": 8.0,
        "active": 53,
        "clinic_load": 0.8,
        "stock_days": 0.002,
        "supply_per_10k": 0.0,
        "covered_share": 0.9,
    }
    public = public_county(row)
    assert public["new_7d_avg"] is None and public["active"] is None and public["clinic_load"] is None
    assert "发热门诊负荷" not in public["flag"] and "口罩可用天数" in public["flag"] and public["flagged"]
    monkeypatch.setattr(security, "clearance", lambda: catalogue.PUBLIC)
    counties = client.get("/api/v1/adequacy?level=county&parent=610100&date=2020-02-15").get_json()
    assert all(r["new_7d_avg"] is None and r["active"] is None for r in counties)
    units = client.get("/api/v1/adequacy?level=unit&date=2020-02-15").get_json()
    assert next(r for r in units if r["adcode"] == "610100")["active"] == 89  # units stay exact, as in /summary
