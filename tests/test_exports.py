"""Exports from `/` in the browser: chart pictures with their Chinese title, tables behind charts."""

from __future__ import annotations

import io

import openpyxl
import pytest
from playwright.sync_api import expect
from waiting import callbacks_done, map_drawn


@pytest.fixture()
def dashboard(server_url, browser):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{server_url}/?region=610100&date=2020-02-15&layers=fever_clinic")
    expect(page.locator("#kpi-confirmed")).to_have_text("114", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('#region-map .maplibregl-canvas')"
        " && document.querySelector('#trend-chart .js-plotly-plot')?.data?.length > 0"
    )
    callbacks_done(page)
    map_drawn(page)
    yield page
    context.close()


def _download(page, selector):
    with page.expect_download(timeout=60_000) as info:
        page.click(selector)
    return info.value


def test_chart_pictures_carry_chart_region_date_and_chinese_text(dashboard, artifacts):
    svg = _download(dashboard, '[id*=\'"chart":"trend-chart"\'][id*=\'"fmt":"svg"\']')
    assert svg.suggested_filename == "趋势图_西安市_2020-02-15.svg"
    text = open(svg.path(), encoding="utf-8").read()
    assert "西安市 趋势图 · 截至2020年2月15日24时" in text and "每日新增" in text  # Chinese as text, not boxes
    png = _download(dashboard, '[id*=\'"chart":"region-map"\'][id*=\'"fmt":"png"\']')
    assert png.suggested_filename == "地图_西安市_2020-02-15.png"
    png.save_as(artifacts / "export_map_xian.png")
    data = open(png.path(), "rb").read()
    width = int.from_bytes(data[16:20], "big")
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and width >= 2 * 900  # 2x the on-screen width
    page_width = dashboard.evaluate("() => document.querySelector('#region-map .js-plotly-plot')._fullLayout.width")
    assert width == 2 * page_width


def test_tables_behind_charts(dashboard):
    csv = _download(dashboard, '[id*=\'"chart":"trend-chart"\'][id*=\'"fmt":"csv"\']')
    lines = open(csv.path(), encoding="utf-8-sig").read().splitlines()
    assert lines[0].startswith("日期,地区,累计确诊,累计治愈")
    assert any(line.startswith("2020-02-15,西安市,114,25") for line in lines)
    xlsx = _download(dashboard, '[id*=\'"chart":"flow-chart"\'][id*=\'"fmt":"xlsx"\']')
    assert xlsx.suggested_filename == "人口流动_西安市_2020-02-15.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(open(xlsx.path(), "rb").read())).active
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["日期", "本地", "方向", "排名", "地区代码", "地区"]
    assert sheet.cell(2, 6).value == "咸阳市"
