"""`/`, `/wall` and `/report` on a phone (issue 20), in Chromium's mobile emulation at 390x844 and 360x800: one
column with nothing running off the right edge, the five KPIs inside the screen two or three a row, readable text,
the controls of `/` folded behind one button until it is pressed, and touch targets of 44 px or more."""

from __future__ import annotations

import re

from playwright.sync_api import expect

PHONE = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2, "locale": "zh-CN"}
KPIS = ["confirmed", "active", "new", "cured", "dead"]

# Every element whose visible part (after the boxes that clip it) reaches past the right edge of the screen.
OVERFLOW = """() => {
  const W = innerWidth, out = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    if (!r.width || !r.height || s.visibility === 'hidden' || e.closest('.sr-only')) continue;
    let right = r.right, left = r.left;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') {
        const c = a.getBoundingClientRect(); right = Math.min(right, c.right); left = Math.max(left, c.left);
      }
    }
    const name = typeof e.className === 'string' ? e.className : '';
    if (right > left && right > W + 1) out.push(`${e.tagName}#${e.id}.${name} right=${Math.round(r.right)}`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: W, overflow: out.slice(0, 10)};
}"""

# Touch targets on the page (not only the ones scrolled into view) smaller than 44 px either way: buttons, links,
# radio and check items, dropdowns. The charts' own hover toolbars (plotly's modebar) are left to plotly, and a link
# inside a sentence is sized by its text (WCAG 2.5.8's inline exception).
SMALL_TARGETS = """(root) => {
  const out = [];
  const targets = root.querySelectorAll('button, a[href], label:has(> input[type=radio]),'
    + ' label:has(input[type=checkbox]), .dash-options-list-option, .dash-dropdown, select,'
    + ' input:not([type=hidden]):not([type=radio]):not([type=checkbox])');
  for (const e of targets) {
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || e.closest('.sr-only, .modebar, .maplibregl-ctrl, [hidden]')) continue;
    if (e.tagName === 'A' && getComputedStyle(e).display === 'inline') continue;  // a link in a sentence
    if (r.height < 44 - 0.5 || r.width < 44 - 0.5)
      out.push(`${e.tagName}#${e.id}.${e.className} ${Math.round(r.width)}x${Math.round(r.height)}`
               + ` "${e.textContent.trim().slice(0, 12)}"`);
  }
  return out;
}"""

# Text of the page's own (HTML, not chart) elements under 14 px.
SMALL_TEXT = """(root) => [...root.querySelectorAll('*')]
  .filter(e => !(e instanceof SVGElement) && !e.closest('.sr-only, .modebar, .maplibregl-ctrl, .js-plotly-plot svg')
    && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) && e.getClientRects().length)
  .filter(e => parseFloat(getComputedStyle(e).fontSize) < 14)
  .map(e => `${e.tagName}.${e.className} ${getComputedStyle(e).fontSize} "${e.textContent.trim().slice(0, 12)}"`)
  .slice(0, 10)"""

# The KPI tiles' boxes, and whether what is drawn at each tile's centre is the tile (nothing fixed covers it).
KPI_BOXES = """(sel) => [...document.querySelectorAll(sel)].map(t => {
  t.scrollIntoView({block: 'center'});
  const r = t.getBoundingClientRect(), hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {left: r.left, right: r.right, top: Math.round(r.top + scrollY), covered: !t.contains(hit),
          label: parseFloat(getComputedStyle(t.firstElementChild).fontSize)};
})"""


def _phone(browser, width=390, height=844):
    context = browser.new_context(viewport={"width": width, "height": height}, **PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _fits(page) -> None:
    size = page.evaluate(OVERFLOW)
    assert size["scrollWidth"] <= size["innerWidth"], size  # no sideways scrolling
    assert size["overflow"] == [], size


def _kpis_fit(page, tile: str) -> None:
    boxes = page.evaluate(KPI_BOXES, tile)
    assert len(boxes) == 5
    width = page.evaluate("innerWidth")
    assert all(b["left"] >= 0 and b["right"] <= width for b in boxes), boxes
    rows = {}
    for b in boxes:
        rows.setdefault(b["top"], []).append(b)
    assert all(len(r) in (2, 3) or (len(r) == 1 and len(rows) == 3) for r in rows.values()), rows  # 3+2 or 2+2+1
    assert len(rows) in (2, 3), rows
    assert not [b for b in boxes if b["covered"]], boxes  # the demo banner is not over them
    assert min(b["label"] for b in boxes) >= 14


def _title_on_one_line(page, selector: str) -> None:
    h1 = page.evaluate(f"""() => {{ const h = document.querySelector('{selector}');
        return [h.getBoundingClientRect().height, parseFloat(getComputedStyle(h).fontSize)]; }}""")
    assert h1[0] < 2 * h1[1], h1  # one line, not a character a line


def _map_shows_the_whole_region(page) -> None:
    """The map's view, refitted to the phone (assets/phone.js), holds the region's whole box (layout.meta.bounds)."""
    page.wait_for_function("""() => { const gd = document.querySelector('#region-map .js-plotly-plot');
        const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
        const want = gd && gd.layout.meta && gd.layout.meta.bounds;
        if (!sub || !want) return false;
        const b = sub.map.getBounds();
        return b.getWest() <= want[0] && b.getSouth() <= want[1] && b.getEast() >= want[2]
            && b.getNorth() >= want[3]; }""")


def test_dashboard_on_a_phone(server_url, browser, artifacts):
    context, page = _phone(browser)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server_url}/?region=610000&date=2020-02-15")
    expect(page.locator("#kpi-confirmed")).to_have_text("236", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('#trend-chart .js-plotly-plot')?.data?.length > 0"
        " && document.querySelector('#region-map .js-plotly-plot')?.data?.length > 0"
    )
    _title_on_one_line(page, ".topbar h1")

    # the controls are folded away behind one button; their ids stay in the page
    toggle = page.locator("#controls-toggle")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#controls")).to_be_hidden()
    for control in ("region-select", "date-select", "metric-select", "layer-select"):
        expect(page.locator(f"#{control}")).to_have_count(1)

    # one column: KPIs (three a row), then the map, the trend and the unit table, each inside the screen
    _kpis_fit(page, ".kpis .kpi")
    order = page.evaluate("""() => ['#region-map', '#trend-chart', '#unit-table'].map(s => {
        const r = document.querySelector(s).getBoundingClientRect(); return [r.top + scrollY, r.height]; })""")
    assert order[0][0] < order[1][0] < order[2][0], order
    assert order[0][1] >= 300 and order[1][1] >= 300, order  # the graphs have a height of their own
    _map_shows_the_whole_region(page)
    _fits(page)
    assert page.evaluate(SMALL_TEXT, page.locator("#_pages_content").element_handle()) == []
    assert page.evaluate(SMALL_TARGETS, page.locator("#_pages_content").element_handle()) == []
    page.evaluate("() => scrollTo(0, 0)")
    page.screenshot(path=str(artifacts / "phone_dashboard_390x844.png"))

    # opened, the region select works as on the desktop, and the panel stays open
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#region-select")).to_be_visible()
    assert page.evaluate(SMALL_TARGETS, page.locator("#controls").element_handle()) == []
    _fits(page)
    page.click("#region-select")
    page.fill(".dash-dropdown-search", "西安")
    page.locator(".dash-dropdown-option", has_text=re.compile("^西安市$")).click()
    expect(page.locator("#kpi-region")).to_have_text("西安市")
    expect(page.locator("#kpi-confirmed")).to_have_text("114")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.wait_for_function("() => document.querySelector('#region-map .js-plotly-plot').layout.meta.bounds[0] > 107")
    _map_shows_the_whole_region(page)  # 西安, refitted in its turn
    toggle.click()
    expect(page.locator("#controls")).to_be_hidden()

    # the narrower phone, without a reload
    page.set_viewport_size({"width": 360, "height": 800})
    page.wait_for_function("() => innerWidth === 360")
    _title_on_one_line(page, ".topbar h1")
    _kpis_fit(page, ".kpis .kpi")
    # the population-flow views and the resource tables below draw once scrolled to: they fit too
    page.locator(".flows").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => document.querySelector('#flow-chart .js-plotly-plot')?.data?.length > 1"
        " && document.querySelector('#flow-table table')"
    )
    _fits(page)
    assert page.evaluate(SMALL_TEXT, page.locator("#_pages_content").element_handle()) == []
    assert page.evaluate(SMALL_TARGETS, page.locator("#_pages_content").element_handle()) == []
    assert errors == []
    context.close()


def test_wall_on_a_phone(server_url, browser, artifacts):
    context, page = _phone(browser)
    page.goto(f"{server_url}/wall?date=2020-02-15")
    expect(page.locator("#kpi-confirmed")).to_have_text("236", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('#flow-chart .js-plotly-plot')?.data?.length > 0"
        " && document.querySelector('#region-map .js-plotly-plot')?.data?.length > 0"
    )
    _title_on_one_line(page, ".wall-head h1")
    _kpis_fit(page, ".wall-kpis .wall-kpi")
    heights = page.evaluate("""() => ['#region-map', '#trend-chart', '#flow-chart', '#wall-risk-list'].map(s => {
        const r = document.querySelector(s).getBoundingClientRect(); return [r.top + scrollY, r.height]; })""")
    assert [h[0] for h in heights] == sorted(h[0] for h in heights), heights  # one column, in this order
    assert all(h[1] >= 300 for h in heights[:3]), heights
    _map_shows_the_whole_region(page)
    _fits(page)
    assert page.evaluate(SMALL_TEXT, page.locator(".wall").element_handle()) == []
    page.evaluate("() => scrollTo(0, 0)")
    page.screenshot(path=str(artifacts / "phone_wall_390x844.png"))
    context.close()


def test_report_form_on_a_phone(server_url, browser):
    context, page = _phone(browser, 360, 800)
    page.goto(f"{server_url}/report?region=610200&date=2020-02-15")
    fields = [
        "report-region",
        "report-date",
        "report-new-confirmed",
        "report-new-cured",
        "report-new-dead",
        "report-submit",
    ]
    for field in fields:  # the dropdown draws once its script has loaded
        expect(page.locator(f"#{field}")).to_be_visible(timeout=30_000)
    _title_on_one_line(page, ".topbar h1")
    # one column: every field the report needs, one under another, inside the screen
    boxes = page.evaluate(
        """(ids) => ids.map(id => { const r = document.getElementById(id).getBoundingClientRect();
        return [id, r.left, r.right, r.top + scrollY, r.height]; })""",
        fields,
    )
    width = page.evaluate("innerWidth")
    assert all(0 <= b[1] and b[2] <= width and b[4] >= 44 for b in boxes), boxes
    assert [b[3] for b in boxes] == sorted(b[3] for b in boxes), boxes
    _fits(page)
    assert page.evaluate(SMALL_TEXT, page.locator("#_pages_content").element_handle()) == []
    assert page.evaluate(SMALL_TARGETS, page.locator("#_pages_content").element_handle()) == []
    context.close()
