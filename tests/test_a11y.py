"""Accessibility of `/`, `/wall` and `/data` in headless chromium: axe-core (tests/a11y, pinned in its
package-lock.json, installed by `scripts/setup.sh test`) checks each page against WCAG 2.1 A and AA with both
palettes, and finds no serious or critical violation; every chart's 表格 button shows a table of the chart's own
numbers; the controls work from the keyboard."""

from __future__ import annotations

import itertools
import json
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect
from waiting import callbacks_done, frames_drawn, map_drawn

from figures import theme
from figures.metrics import colour_axis
from layouts import view_state

AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHARTS = ["region-map", "trend-chart", "flow-chart", "scale-chart", "od-chart", "import-chart"]


# ---- the colour-blind-safe palette, without a browser ------------------------------------------------------------
# Machado, Oliveira & Fernandes (2009), full severity, on linear RGB: what a reader with protanopia, deuteranopia or
# tritanopia sees.
CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _lab(hex_colour: str, vision: str) -> np.ndarray:
    """CIELAB (D65) of a colour as seen with a colour-vision deficiency."""
    c = np.array([int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)])
    rgb = np.clip(np.array(CVD[vision]) @ np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4), 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _closest(colours, vision: str) -> float:
    return min(float(np.linalg.norm(_lab(a, vision) - _lab(b, vision))) for a, b in itertools.combinations(colours, 2))


@pytest.mark.parametrize("vision", list(CVD))
def test_colour_blind_palette_keeps_risk_levels_and_trend_lines_apart(vision):
    cb, standard = theme.palette("cb"), theme.palette("standard")
    # the three risk levels stay far apart (CIELAB distance); the standard green/amber/red does not for red-green
    assert _closest(list(cb.risk.values()), vision) > 35
    assert _closest([cb.new, cb.average], vision) > 35  # bars and the line over them
    if vision != "tritanopia":
        assert _closest(list(standard.risk.values()), vision) < 30
    # the sequential scale still reads light (few) to dark (many)
    lightness = [_lab(c, vision)[0] for c in cb.sequential]
    assert lightness == sorted(lightness, reverse=True)


def test_palette_is_part_of_the_view_and_changes_colours_only(app_module):
    from callbacks import dashboard as cb
    from views.maps import build_map
    from views.wall import wall_view

    state = view_state.parse({"palette": "cb", "date": "2020-02-15"}, "2020-01-01", "2020-12-31")
    assert state.palette == "cb"  # and the address keeps it: test_browser.py test_the_address_holds_the_view_...
    assert view_state.parse({"palette": "nonsense"}, "2020-01-01", "2020-12-31").palette == "standard"
    assert view_state.URL_DEFAULTS["palette"] == "standard"  # left out of the address

    import pandas as pd

    assert colour_axis("confirmed_cum", pd.Series([0, 10.0]), "cb")["colorscale"][0][1] == "#fde725"
    risk = colour_axis("risk_level", pd.Series([0, 2]), "cb")
    assert risk["colorbar"]["ticktext"] == ["低风险", "中风险", "高风险"]  # levels named in words, not colour alone

    standard = build_map("610000", "2020-02-15", "confirmed_cum", [])
    blind = build_map("610000", "2020-02-15", "confirmed_cum", [], "cb")
    assert [t.get("z") for t in standard["data"]] == [t.get("z") for t in blind["data"]]
    patch = cb.colour_patch(blind).to_plotly_json()["operations"]
    assert {tuple(op["location"][:1]) for op in patch} <= {("data",), ("layout",)}
    assert not [op for op in patch if op["location"][-1] in ("z", "x", "y", "locations", "customdata")]

    wall = wall_view(
        {"region": "610000", "date": "2020-02-15", "metric": "confirmed_cum", "pinned_date": True, "palette": "cb"}, 0
    )
    assert wall["map"]["layout"]["coloraxis"]["colorscale"][0][1] == "#fde725"
    assert wall["trend"]["data"][1]["line"]["color"] == theme.palette("cb").average
    assert wall["trend"]["data"][2]["line"]["color"] == theme.WALL_INK  # black lines turn light on the dark wall


# ---- in the browser ---------------------------------------------------------------------------------------------
def _settle(page, path: str) -> None:
    """Wait until what a user would read is there: every graph drawn, the map's canvas painted, no callback
    pending (Dash marks components that wait for one with data-dash-is-loading)."""
    if path.startswith("/data"):
        expect(page.locator("#quality table").first).to_be_visible(timeout=30_000)
    elif path.startswith("/models"):  # the backtest's first run for a data version takes ~half a minute
        expect(page.locator("#models-backtest-table table").first).to_be_visible(timeout=120_000)
    else:
        expect(page.locator("#region-map .maplibregl-canvas")).to_be_visible(timeout=30_000)
        page.wait_for_function(
            """() => [...document.querySelectorAll('.js-plotly-plot')]
                                      .every(gd => gd.data && gd._fullLayout)""",
            timeout=30_000,
        )
    callbacks_done(page)
    if page.locator("#region-map").count():
        map_drawn(page)
    frames_drawn(page)  # the last redraws and assets/a11y.js's corrections (once a frame)


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now, one readable line each."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing: run `scripts/setup.sh test` (npm ci in {AXE.parents[2]})")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async (tags) => {
        const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
        return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').flatMap(v =>
            v.nodes.map(n => `${v.impact} ${v.id} (${v.help}) at ${n.target.join(' ')}: `
                           + n.failureSummary.replace(/\\s+/g, ' ').slice(0, 300)));
    }""",
        WCAG_21_AA,
    )
    return found


@pytest.mark.parametrize(
    "path, size",
    [
        ("/?region=610000&date=2020-02-15", (1920, 1080)),
        (
            "/?region=610100&date=2020-02-15&metric=risk_level&layers=fever_clinic&trend=compare&palette=cb",
            (1920, 1080),
        ),
        ("/wall?date=2020-02-15", (1920, 1080)),
        ("/wall?date=2020-02-15&palette=cb&metric=risk_level", (1920, 1080)),
        ("/data", (1366, 768)),
        pytest.param("/models", (1366, 768), marks=pytest.mark.once),  # its backtest's first run: ~25 s, one pass
    ],
)
def test_pages_have_no_serious_wcag_violations(own_server, browser, artifacts, path, size):
    # an app of the module's own: the pages as the shipped data draws them, whatever another module (on the same
    # pytest-xdist worker, in any order) has stored in the shared served app
    server_url = own_server[0]
    # bypass_csp: the page's Content-Security-Policy rightly refuses inline scripts; axe is the test's own one
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{server_url}{path}")
        _settle(page, path)
        if path.startswith("/?"):  # the flow charts and panels below the fold draw once scrolled to
            page.locator("section.flows").scroll_into_view_if_needed()
            page.locator("footer.footer").scroll_into_view_if_needed()
            page.wait_for_function(
                "() => document.querySelector('#od-chart .js-plotly-plot')?.data?.length > 0", timeout=30_000
            )
            callbacks_done(page)
            frames_drawn(page)
        found = serious_violations(page) + unnamed_controls(page)
        name = path.strip("/?").replace("&", "_").replace("=", "-").replace("?", "_") or "dashboard"
        page.screenshot(path=str(artifacts / f"a11y_{name[:80]}.png"))
        assert found == [], "axe-core found serious/critical WCAG 2.1 AA violations:\n" + "\n".join(found)
    finally:
        context.close()


def unnamed_controls(page) -> list[str]:
    """Dash's option groups, sliders and dropdown buttons that have no name a screen reader can say (axe lets an
    unnamed group pass; a user hears only "group")."""
    return page.evaluate("""() => [...document.querySelectorAll(
            '.dash-options-list, [role="slider"], button.dash-dropdown')].filter(el => {
        const ids = (el.getAttribute('aria-labelledby') || '').split(' ').filter(Boolean);
        const text = ids.map(id => document.getElementById(id)?.textContent || '').join('').trim();
        return !text && !(el.getAttribute('aria-label') || '').trim();
    }).map(el => `unnamed control: ${el.id || el.outerHTML.slice(0, 80)}`)""")


def _table(page, chart: str) -> dict:
    """The header and rows of a chart's table alternative as shown, once it has been drawn (each table is filled when
    its chart's own answer has come)."""
    page.wait_for_function(
        """(chart) => document.getElementById(JSON.stringify({chart: chart, type: 'chart-table'}))
        ?.querySelector('thead th')""",
        arg=chart,
        timeout=30_000,
    )
    return page.evaluate(
        """(chart) => {
        const panel = document.getElementById(JSON.stringify({chart: chart, type: 'chart-table'}));
        const rows = [...panel.querySelectorAll('tbody tr')].map(tr => [...tr.children].map(c => c.textContent));
        return {head: [...panel.querySelectorAll('thead th')].map(th => th.textContent), rows: rows,
                caption: panel.querySelector('caption')?.textContent || '',
                scopes: [...panel.querySelectorAll('th')].map(th => th.getAttribute('scope'))};
    }""",
        chart,
    )


def _number(text: str) -> float | None:
    return None if text == "—" else float(text.replace(",", ""))


def test_every_chart_has_its_numbers_as_a_table(server_url, page, artifacts):
    page.goto(f"{server_url}/?region=610100&date=2020-02-15")
    _settle(page, "/")
    # the flow charts below the fold draw once their section is on screen (assets/dashboard.js): bring them in first
    page.locator("section.flows").scroll_into_view_if_needed()
    page.wait_for_function(
        """(charts) => charts.every(id =>
        document.querySelector(`#${id} .js-plotly-plot`)?._fullLayout)""",
        arg=CHARTS,
        timeout=30_000,
    )
    page.locator("#region-map").scroll_into_view_if_needed()
    # every chart on the page has a 表格 button, including any added later with export_bar
    graphs = page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => gd.closest('.dash-graph').id)"
    )
    toggles = page.evaluate("""() => [...document.querySelectorAll('.table-toggle')]
                                    .map(b => JSON.parse(b.id).chart)""")
    assert set(CHARTS) <= set(graphs) and set(graphs) <= set(toggles), (graphs, toggles)

    # the trend: a row a day, a column per series, each number what the chart draws
    page.locator("#trend-chart").scroll_into_view_if_needed()
    toggle = page.get_by_role("button", name="表格").nth(1)
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    table = _table(page, "trend-chart")
    assert table["caption"].startswith("西安市 每日新增与累计确诊")
    assert table["head"][:5] == ["日期", "每日新增", "7日平均", "累计确诊", "现有确诊"]
    assert set(table["scopes"]) == {"col", "row"}
    # plotly's own decoded copy of the data it draws (the figure arrives with base64-packed arrays)
    drawn = page.evaluate("""() => document.querySelector('#trend-chart .js-plotly-plot')._fullData.slice(0, 4)
        .map(t => Object.fromEntries(Array.from(t.x).map((x, i) =>
            [String(x).slice(0, 10), Number.isFinite(t.y[i]) ? t.y[i] : null])))""")
    rows = {r[0]: r for r in table["rows"]}
    assert len([d for d in rows if d <= "2020-02-15"]) == len(drawn[0])
    # and the forecast fan after the day: 14 rows, its median column what the API gives for that origin
    future = sorted(d for d in rows if d > "2020-02-15")
    assert future[0] == "2020-02-16" and len(future) == 14
    median = table["head"].index("预测中位数（例）")
    with urllib.request.urlopen(f"{server_url}/api/v1/forecast?region=610100&date=2020-02-15") as response:
        assert [_number(rows[d][median]) for d in future] == [r["median"] for r in json.load(response)]
    for column, series in enumerate(drawn, start=1):
        for day, value in series.items():
            shown = _number(rows[day][column])
            assert (shown is None and value is None) or shown == pytest.approx(value, abs=5e-5), (day, column)
    assert rows["2020-02-15"][3] == "114"  # 西安 cumulative to 2月15日, as the KPI tile says

    # the map: a row per unit, the metric as the colour bar names it; the date step patches it and the table follows
    map_toggle = page.locator("#region-map").locator("xpath=..").get_by_role("button", name="表格")
    map_toggle.click()
    table = _table(page, "region-map")
    assert table["head"] == ["地区", "层级", "累计确诊 （例）"]
    assert table["caption"].startswith("地图：累计确诊 （例） · 截至2020年2月15日24时")
    xian = next(r for r in table["rows"] if r[0] == "西安市")
    assert xian[2] == "114"
    page.click("#date-next")
    page.wait_for_function("""() => [...document.getElementById(
            JSON.stringify({chart: 'region-map', type: 'chart-table'})).querySelectorAll('tbody tr')]
        .some(tr => tr.children[0].textContent === '西安市' && tr.children[2].textContent === '117')""")
    page.wait_for_function("""() => document.getElementById(JSON.stringify({chart: 'region-map', type: 'chart-table'}))
        .querySelector('caption').textContent.includes('截至2020年2月16日24时')""")  # the caption says the new day
    page.screenshot(path=str(artifacts / "a11y_tables_xian.png"))
    map_toggle.click()
    expect(map_toggle).to_have_attribute("aria-pressed", "false")
    expect(page.locator(".chart-table").first).to_be_hidden()

    # the flow charts: the flow ranking, the scale index, the matrix and the importation ranking
    page.locator("section.flows").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => document.querySelector('#import-chart .js-plotly-plot')?.data?.length > 0", timeout=30_000
    )
    for chart, head in (
        ("flow-chart", ["地区代码", "方向", "占比%", "相对流量"]),
        ("scale-chart", ["日期", "迁入规模指数", "迁出规模指数"]),
        ("import-chart", ["地区", "输入风险指数"]),
    ):
        page.locator(f"#{chart}").locator("xpath=..").get_by_role("button", name="表格").click()
        table = _table(page, chart)
        assert table["head"] == head and table["rows"], (chart, table["head"])
    od = page.locator("#od-chart").locator("xpath=..")
    od.get_by_role("button", name="表格").click()
    table = _table(page, "od-chart")
    matrix = page.evaluate("() => document.querySelector('#od-chart .js-plotly-plot').data[0]")
    assert [r[0] for r in table["rows"]] == matrix["y"] and table["head"][1:] == matrix["x"]


def test_controls_work_from_the_keyboard(server_url, page):
    page.goto(f"{server_url}/?region=610100&date=2020-02-15")
    _settle(page, "/")
    # Tab from the top bar reaches the region dropdown (its button, named by its label), then the date buttons
    page.get_by_role("link", name="数据管理").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.id")
    assert focused == "region-select", focused
    name = page.evaluate("""() => { const b = document.activeElement;
        return b.getAttribute('aria-labelledby').split(' ').map(id => document.getElementById(id)?.textContent || '')
                .join(' ').trim(); }""")
    assert name.startswith("地区") and "西安市" in name
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "date-prev"
    frames_drawn(page)  # a person's next key press: assets/a11y.js re-corrects the dropdown once a frame
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.id") == "region-select"
    page.keyboard.press("ArrowDown")  # opens the list; Escape closes it
    expect(page.locator(".dash-dropdown-option").first).to_be_visible()
    page.keyboard.press("Escape")
    # closed: the list hands focus back to its button as it goes, which on a loaded machine came after the focus below
    expect(page.locator(".dash-dropdown-option").first).to_be_hidden()

    # the date buttons: Enter steps a day
    page.focus("#date-next")
    assert page.evaluate("() => document.activeElement.id") == "date-next"
    page.keyboard.press("Enter")
    expect(page.locator("#as-of")).to_have_text("截至2020年2月16日24时")

    # the palette: arrows move within the radio group, the map and the URL follow
    page.focus("#palette-select input[value='standard']")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.documentElement.dataset.palette === 'cb'")
    page.wait_for_function("() => location.search.includes('palette=cb')")  # the view state keeps it
    page.wait_for_function("""() => document.querySelector('#region-map .js-plotly-plot').layout.coloraxis
                                   .colorscale[0][1].toLowerCase() === '#fde725'""")

    # the trend's 表格 button: Tab to it, Enter shows the table, Space hides it again
    first_export = page.locator("#trend-chart").locator("xpath=..").locator(".export-button").first
    page.focus("#trend-options input[value='per100k']")
    for _ in range(5):
        if page.evaluate("() => document.activeElement.classList.contains('table-toggle')"):
            break
        page.keyboard.press("Tab")
    assert page.evaluate("() => JSON.parse(document.activeElement.id).chart") == "trend-chart"
    page.keyboard.press("Enter")
    expect(first_export).to_have_attribute("aria-pressed", "true")
    assert _table(page, "trend-chart")["rows"]
    page.keyboard.press("Space")
    expect(first_export).to_have_attribute("aria-pressed", "false")
