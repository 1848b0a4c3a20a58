"""Waiting in the browser tests on what the test needs to be true, never for a guessed time.

The page's Content-Security-Policy forbids eval, so what runs in the page is a function (source and argument), never
an expression string.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

# MapLibre (plotly's map) idle: its style, sources and tiles loaded, no camera move or fade running, and the last
# frame drawn. 'idle' fires once after the frame it follows: a repaint is asked for, so it comes even when the map
# was idle already.
_MAP_IDLE = """async (selector) => {
    const gd = document.querySelector(selector + ' .js-plotly-plot');
    const map = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot.map;
    if (!map) return false;
    await new Promise(resolve => { map.once('idle', resolve); map.triggerRepaint(); });
    return true;
}"""
_DASH_IDLE = "() => !document.querySelector('[data-dash-is-loading]')"


# Every layer of the figure handed to MapLibre, its data loaded: plotly makes a source `source-<uid>` for each
# choroplethmap trace (once its GeoJSON, maybe a URL, has come) and `source-<uid>-circle` for each scattermap trace.
# Also what a test's own init script can call, to note when the map was drawn.
MAP_HAS_EVERY_LAYER = """(selector) => {
    const gd = document.querySelector(selector + ' .js-plotly-plot');
    const map = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot.map;
    if (!map || !map.loaded()) return false;
    const sources = map.getStyle().sources;
    return gd._fullData.every(t => {
        const id = t.type === 'choroplethmap' ? `source-${t.uid}` : t.type === 'scattermap' ? `source-${t.uid}-circle`
                                                                                             : null;
        return id === null || (id in sources && map.isSourceLoaded(id));
    });
}"""


# A test's init script: each Dash callback request the page sends, as [its outputs, whether the first map was drawn
# then (`map-drawn`)], in ``window.__asked``.
RECORD_ASKED = """(() => { const asked = window.__asked = []; const fetch = window.fetch;
    window.fetch = function(url, options) {
      if (String(url).includes('_dash-update-component')) {
        let drawn = null;
        try { drawn = window.dash_component_api.getLayout('map-drawn').props.data; } catch (e) { /* none yet */ }
        asked.push([JSON.parse(options.body).output, drawn]);
      }
      return fetch.apply(this, arguments);
    }; })()"""


def map_drawn(page, selector: str = "#region-map", timeout: float = 30_000) -> None:
    """Until the map in ``selector`` has painted every layer of the figure it was last given (before a picture)."""
    page.wait_for_function(MAP_HAS_EVERY_LAYER, arg=selector, timeout=timeout)
    page.evaluate(_MAP_IDLE, selector)


def frames_drawn(page, count: int = 2) -> None:
    """Until the page has drawn ``count`` more frames: what runs once a frame (assets/a11y.js's corrections) has run."""
    page.evaluate(
        """(count) => new Promise(resolve => {
        const next = (left) => left ? requestAnimationFrame(() => next(left - 1)) : resolve();
        next(count); })""",
        count,
    )


def callbacks_done(page, timeout: float = 30_000) -> None:
    """Until no Dash callback is pending (Dash marks the components that wait for one with data-dash-is-loading)."""
    page.wait_for_function(_DASH_IDLE, timeout=timeout)


def until(page, condition, timeout: float = 20_000, what: str = "the condition") -> None:
    """Until ``condition()`` (a check in the test's process, on what the page's events have recorded) holds; fails
    after ``timeout`` ms. Playwright hands the page's events to the test's handlers only while the test waits on the
    page, hence the short waits in between."""
    deadline = time.monotonic() + timeout / 1000
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not come within {timeout / 1000:.0f} s")
        page.wait_for_timeout(50)  # lets the page's events reach the test's handlers


def next_tick(page, interval_id: str) -> None:
    """Move the page's clock (``page.clock.install()`` before it loaded) on by the period of its dcc.Interval
    ``interval_id``, so that interval fires now instead of after a real wait of that long."""
    period = page.evaluate("(id) => window.dash_component_api.getLayout(id).props.interval", interval_id)
    page.clock.fast_forward(period)


def eventually(check, timeout: float = 20.0, what: str = "the condition") -> None:
    """Until ``check()`` (a look at a server or a store, outside any page) holds; fails after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not come within {timeout:.0f} s")
        time.sleep(0.1)


def api_answers(url: str) -> dict | list | None:
    """The JSON a GET of ``url`` answers, or None for an error status."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError:
        return None
