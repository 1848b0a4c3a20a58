"""`/wall` as the wall screen shows it: fills the screen without scrolling at 1080p and 4K, every KPI a number,
large type, and new data picked up by polling without a reload."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, insert
from waiting import api_answers, callbacks_done, eventually, map_drawn, next_tick

from data import store


@pytest.mark.parametrize("width, height", [(1920, 1080), (3840, 2160)])
def test_wall_fills_the_screen(server_url, browser, artifacts, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{server_url}/wall?date=2020-02-15")
    expect(page.locator("#kpi-confirmed")).to_have_text("236", timeout=30_000)
    for key in ("confirmed", "active", "new", "cured", "dead"):
        assert re.fullmatch(r"[\d,.万]+", page.inner_text(f"#kpi-{key}")), key
    page.wait_for_function(
        "() => document.querySelector('#region-map .maplibregl-canvas')"
        " && document.querySelector('#flow-chart .js-plotly-plot')?.data?.length > 0"
    )
    callbacks_done(page)
    map_drawn(page)
    size = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight, innerWidth, innerHeight]"
    )
    assert size[0] <= size[2] and size[1] <= size[3], size  # nothing to scroll
    wall = page.evaluate(
        "() => { const r = document.querySelector('.wall').getBoundingClientRect(); return [r.width, r.height]; }"
    )
    assert wall == [width, height]
    smallest = page.evaluate("""() => Math.min(...[...document.querySelectorAll('.wall *')]
        .filter(e => e.childElementCount === 0 && e.textContent.trim() && e.offsetParent)
        .map(e => parseFloat(getComputedStyle(e).fontSize)))""")
    assert smallest >= 18 * width / 1920 - 0.5  # readable from 5 metres: no body text under 18 px at 1080p
    # the trend's notes (first case, peak day, last case) in the wall's large type: each readable, none over another
    notes = page.evaluate("""() => [...document.querySelectorAll('#trend-chart g.annotation')].map(a => {
        const r = a.querySelector('rect.bg').getBoundingClientRect();
        return {text: a.textContent, box: [r.left, r.top, r.right, r.bottom]}; })""")
    assert len(notes) >= 2 and any(n["text"].startswith("首例") for n in notes), notes
    for i, a in enumerate(notes):
        for b in notes[i + 1 :]:
            (l1, t1, r1, b1), (l2, t2, r2, b2) = a["box"], b["box"]
            assert min(r1, r2) - max(l1, l2) <= 1 or min(b1, b2) - max(t1, t2) <= 1, (a, b)
    page.screenshot(path=str(artifacts / f"wall_{width}x{height}.png"))
    # the map and the flow map draw with no tile, glyph or script server: the intranet has no internet
    assert [u for u in requests if not re.match(r"^(http://127\.0\.0\.1[:/]|blob:|data:)", u)] == []
    context.close()


def _report_arrives(db_url: str, checksum: str, day: dt.date, confirmed: int, cured: int, dead: int) -> None:
    """西安's figures for a day, stored as one new batch, as an ingest would store them."""
    eng = create_engine(db_url)
    with eng.begin() as conn:
        batch = conn.execute(
            insert(store.batches).values(
                kind="cases",
                file_name=f"{checksum}.csv",
                checksum=checksum,
                size_bytes=1,
                rows_accepted=1,
                rows_rejected=0,
                created_by="test",
                status="active",
                is_demo=False,
                source="测试",
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(store.case_reports).values(
                batch_id=batch,
                region_adcode="610100",
                category="reported",
                as_of_date=day,
                confirmed_cum=confirmed,
                cured_cum=cured,
                dead_cum=dead,
            )
        )
    eng.dispose()


def test_wall_picks_up_new_data_without_a_reload(own_server, browser):
    server_url, server_db = own_server
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.clock.install()  # the page's own timers, so the test can move it on to its next poll instead of waiting
    page.goto(f"{server_url}/wall")  # no date pinned: the wall shows the latest day
    expect(page.locator("#as-of")).to_have_text("截至2020年12月7日24时", timeout=30_000)
    page.evaluate("() => { window.__marker = 'same page'; }")
    _report_arrives(server_db, "wall-test", dt.date(2020, 12, 8), 200, 150, 3)  # a new day's report
    eventually(
        lambda: (
            (api_answers(f"{server_url}/api/v1/summary?region=610100&date=2020-12-08") or {}).get("confirmed_cum")
            == 200
        ),
        what="the new day in the served app",
    )  # it reads the version each second
    next_tick(page, "data-poll")
    expect(page.locator("#as-of")).to_have_text("截至2020年12月8日24时", timeout=20_000)
    assert page.evaluate("() => window.__marker") == "same page"  # no reload
    page.close()


def test_dashboard_redraws_in_place_after_a_new_batch(own_server, browser):
    server_url, server_db = own_server
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.clock.install()
    page.goto(f"{server_url}/?region=610100&date=2020-02-15")
    expect(page.locator("#kpi-confirmed")).to_have_text("114", timeout=30_000)
    page.evaluate("() => { window.__marker = 'same page'; }")
    _report_arrives(server_db, "dashboard-test", dt.date(2020, 2, 15), 115, 25, 0)  # a revision of 2月15日
    eventually(
        lambda: (
            (api_answers(f"{server_url}/api/v1/summary?region=610100&date=2020-02-15") or {}).get("confirmed_cum")
            == 115
        ),
        what="the revision in the served app",
    )
    next_tick(page, "page-poll")
    expect(page.locator("#kpi-confirmed")).to_have_text("115", timeout=20_000)
    assert page.evaluate("() => window.__marker") == "same page"
    page.close()


def test_wall_rotates_through_metrics_and_views(server_url, browser):
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.clock.install()
    page.goto(f"{server_url}/wall?date=2020-02-15&rotate=5")
    expect(page.locator("#kpi-confirmed")).to_have_text(re.compile(r"\d"), timeout=30_000)
    shown = (
        "() => document.querySelector('#region-map .js-plotly-plot').layout.coloraxis.colorbar.title.text"
        " + '|' + document.querySelector('#trend-chart .js-plotly-plot').layout.title.text"
    )
    page.wait_for_function(f"() => {{ try {{ return ({shown})(); }} catch (e) {{ return false; }} }}")
    seen = [page.evaluate(shown)]
    for _ in range(3):
        next_tick(page, "wall-rotate")  # the next turn of the rotation, without waiting its 5 s
        page.wait_for_function(f"(before) => ({shown})() !== before", arg=seen[-1], timeout=20_000)
        seen.append(page.evaluate(shown))
    assert len(set(seen)) >= 3, seen  # the panels moved on by themselves
    assert errors == []
    page.close()
