"""Interaction benchmark of `/` as a duty officer feels it: `python -m benchmarks.interaction` (part of `make bench`).

What it measures is what the side-by-side harness in ``../shared/bench/`` measures (issue 22: "the project's own
`make bench` reports the same measures"); this file is a self-contained copy of that harness's dashboard half,
``measure_project.py``, and of the helper functions it imports from the Streamlit peer's ``streamlit/measure.py``
(percentiles, free port, RSS, CPU accounting, the CDP network meter), credited here: same predicate, same timing
method, same defaults. Nothing is imported from ``../shared``.

Timing: start = the input event's own ``timeStamp`` (pointerdown / keydown, captured on window), end = the first
animation frame at which the condition holds, both ``performance.now()`` inside the page, polled every frame by a
loop injected before any page script and started before the input. Headless Chromium (/usr/bin/chromium, args
``--no-sandbox``) driven by Playwright, viewport 1600x1000.

Per run:
  server: ``python app.py`` in the project root with HOST=127.0.0.1 PORT=<free> DATABASE_URL=<store>, stopped by its
          own PID. The store (default benchmarks/results/interaction.sqlite; --store, DATABASE_URL or --scale) is
          created and filled on the preparation start and reused.
  expected values: from the app's own API (/api/v1/regions, /api/v1/timeseries), read from a server started only
          for that (so no timed server is warmed by it): what the KPI tiles must read and the map's values per day.
  first load, cold server (right after /health 200), then warm server (new context, empty cache), then a reload
          with a warm browser cache; bytes = CDP encodedDataLength (on the wire, headers included). "KPIs shown",
          "map drawn" and "trend drawn" from navigation start.
  20 date changes: mouse clicks on the date slider's track at seeded random days, each >= 5 days from the current
          one (seed 2020), region left at the province.
  10 region changes: open the region dropdown, type the name in its search box (before t0), then click the option
          (t0 = that click's pointerdown). Same region sequence as the shared harness.
  conditions, checked every frame:
    KPIs: none of kpi-*, kpi-region, as-of is loading; kpi-region shows the region, as-of the day, and the 5 KPI
          tiles read exactly the texts /api/v1/summary's figures give for (region, day) (a correctness check too).
    map: a plotly_afterplot has fired on #region-map after t0; at province level trace 0's values are the day's
          confirmed_cum per unit; the MapLibre map is loaded(), not moving, with a fill layer.
    trend: the trend chart's day marker (shapes[0].x0) is on the day (date changes) / the chart was redrawn after t0
          (region changes).
  server RSS (after start, after the first loads = warm-up, after the interactions, peak = VmHWM) and CPU seconds
  per interaction (server process; browser + Playwright driver), from /proc.

Prints one table (p50 / p95 of each measure, pooled over --runs); writes benchmarks/results/interaction.json.

Usage: python -m benchmarks.interaction [--runs 1] [--dates 20] [--regions 10] [--seed 2020] [--store PATH | --scale]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_STORE = RESULTS / "interaction.sqlite"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1600, "height": 1000}
WAIT_MS = 30_000
POLL = "raf"
LOCAL_PREFIXES = ("http://127.0.0.1", "ws://127.0.0.1", "blob:", "data:", "about:")
START_REGION = "610000"
START_DATES = ("2020-02-15", "2025-06-01")  # the shipped data's start view (as the shared harness); the scale set's
FIRST, LAST = "2020-01-22", "2020-12-07"  # the shipped data's as-of days = the Streamlit peer's 321 slider dates
KPI_KEYS = ["confirmed", "active", "new", "cured", "dead"]
KPI_COLS = {
    "confirmed": "confirmed_cum",
    "active": "active",
    "new": "new_confirmed",
    "cured": "cured_cum",
    "dead": "dead_cum",
}
EXCLUDES = {"610400": "610403", "610500": "610581"}  # geo/units.py: a unit whose reported figure leaves another out
NAMES = [
    "西安市",
    "汉中市",
    "杨凌示范区",
    "榆林市",
    "韩城市",
    "宝鸡市",
    "安康市",
    "陕西省",
    "渭南市",
    "商洛市",
    "延安市",
    "铜川市",
    "咸阳市",
]  # the shared harness's order of region changes

# ---------------------------------------------------------------------------------------------------------------
# helpers copied from ../shared/bench/streamlit/measure.py (the Streamlit peer's harness), unchanged in substance


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_stats(pid: int) -> dict:
    st = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS", "VmHWM")):
                st[line.split(":")[0]] = int(line.split()[1]) // 1024  # MiB
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        st["cpu_s"] = round((int(fields[11]) + int(fields[12])) / tick, 2)
        st["threads"] = int(fields[17])
    except OSError:
        pass
    return {
        "rss_mib": st.get("VmRSS"),
        "peak_rss_mib": st.get("VmHWM"),
        "cpu_s": st.get("cpu_s"),
        "threads": st.get("threads"),
    }


TICK = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (ppid, CPU seconds incl. reaped children) for every process."""
    table = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                f = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            table[int(d.name)] = (int(f[1]), sum(int(x) for x in f[11:15]) / TICK)
    return table


def cpu_snapshot(server_pid: int) -> dict:
    """CPU seconds so far: machine-wide busy time, the server, and this harness's own tree (Playwright driver +
    Chromium). What is left over is load from other processes."""
    cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    busy = (sum(cpu[:8]) - cpu[3] - cpu[4]) / TICK  # all but idle and iowait
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)

    def tree(root: int) -> float:
        total, stack = 0.0, [root]
        while stack:
            pid = stack.pop()
            total += table.get(pid, (0, 0.0))[1]
            stack.extend(c for c in children.get(pid, []) if c != server_pid)
        return total

    return {"t": time.perf_counter(), "busy": busy, "server": tree(server_pid), "client": tree(os.getpid())}


def cpu_delta(a: dict, b: dict) -> dict:
    wall = b["t"] - a["t"]
    d = {k: b[k] - a[k] for k in ("busy", "server", "client")}
    other = max(0.0, d["busy"] - d["server"] - d["client"])
    return {
        "wall_s": round(wall, 1),
        "server_cpu_s": round(d["server"], 1),
        "client_cpu_s": round(d["client"], 1),
        "other_cpu_s": round(other, 1),
        "other_load_pct_of_machine": round(100 * other / (wall * (os.cpu_count() or 1)), 1),
    }


def versions() -> dict:
    from importlib.metadata import version  # noqa: PLC0415  (only when a run is reported)

    out = {"python": sys.version.split()[0]}
    for dist in ("dash", "plotly", "pandas", "numpy", "playwright"):
        try:
            out[dist] = version(dist)
        except Exception:  # noqa: BLE001  (any failure: reported as None)
            out[dist] = None
    return out


def pct(values, q):
    return round(float(np.percentile(values, q)), 1) if values else None


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }


def attach_network_meter(context, page):
    """CDP meter of HTTP traffic (on-wire bytes incl. headers) for one page."""
    cdp = context.new_cdp_session(page)
    reqs: dict[str, dict] = {}

    def on_sent(e):
        reqs.setdefault(e["requestId"], {})["url"] = e["request"]["url"]

    def on_resp(e):
        r = reqs.setdefault(e["requestId"], {})
        h = {k.lower(): v for k, v in e["response"].get("headers", {}).items()}
        r.update(
            url=e["response"]["url"],
            status=e["response"]["status"],
            encoding=h.get("content-encoding", ""),
            cached=e["response"].get("fromDiskCache", False),
        )

    def on_done(e):
        reqs.setdefault(e["requestId"], {})["bytes"] = e["encodedDataLength"]

    cdp.on("Network.requestWillBeSent", on_sent)
    cdp.on("Network.responseReceived", on_resp)
    cdp.on("Network.loadingFinished", on_done)
    cdp.send("Network.enable")
    return cdp, reqs


# ---------------------------------------------------------------------------------------------------------------
# the dashboard's half, from ../shared/bench/measure_project.py

PREDICATE_JS = r"""
(arg) => {
  const P = window.__peer;
  const now = performance.now();
  const gd = document.querySelector('#region-map .js-plotly-plot');
  if (gd && gd.on && !gd.__peerHooked) {
    gd.__peerHooked = true; gd.on('plotly_afterplot', () => { P.afterplot = performance.now(); });
  }
  const tgd = document.querySelector('#trend-chart .js-plotly-plot');
  if (tgd && tgd.on && !tgd.__peerHooked) {
    tgd.__peerHooked = true; tgd.on('plotly_afterplot', () => { P.trendplot = performance.now(); });
  }
  const dv = document.querySelector('#date-select-value');
  const rv = document.querySelector('#region-select-value');
  if (!dv || !rv) return false;
  const m1 = dv.innerText.trim().match(/^(\d{4})年(\d{1,2})月(\d{1,2})日$/);
  if (!m1) return false;
  const date = `${m1[1]}-${m1[2].padStart(2, '0')}-${m1[3].padStart(2, '0')}`;
  const region = arg.labels[rv.innerText.trim()];
  if (!region) return false;
  if (arg.prev && arg.prev.date === date && arg.prev.region === region) return false;
  const want = (arg.expected[region] || {})[date];
  if (!want) return false;
  const since = arg.prev ? (P.t0 == null ? Infinity : P.t0) : 0;
  if (P.kpiAt == null) {
    const ids = [...arg.kpiIds, 'kpi-region', 'as-of'];
    const els = ids.map(i => document.getElementById(i));
    const loading = els.some(e => !e || e.getAttribute('data-dash-is-loading') === 'true');
    if (!loading
        && els[arg.kpiIds.length].innerText.trim() === want.name
        && els[arg.kpiIds.length + 1].innerText.trim() === want.asof
        && els.slice(0, arg.kpiIds.length).map(e => e.innerText.trim()).join('|') === want.kpis.join('|')) {
      P.kpiAt = now;
    }
  }
  if (P.mapAt == null && gd && gd.data && gd.data.length && P.afterplot != null && P.afterplot >= since) {
    const sub = gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    const m = sub && sub.map;
    let zok = true;
    const zs = arg.mapz[date];
    if (region === arg.province && zs) {   // province view: the units' values must be the day's
      const t = gd.data[0];
      const locs = t.locations || [], z = t.z || [];
      zok = locs.length > 0 && locs.every((l, i) => zs[String(l)] === undefined || Number(z[i]) === zs[String(l)]);
    }
    if (zok && m && m.loaded() && !m.isMoving() && m.getStyle().layers.some(l => l.type === 'fill')) {
      P.mapAt = now;
    }
  }
  if (P.trendAt == null && tgd && tgd.data && tgd.data.length) {
    const sh = tgd.layout && tgd.layout.shapes;
    const onDay = sh && sh.length && String(sh[0].x0).slice(0, 10) === date;
    if (onDay && (arg.kind !== 'region' || (P.trendplot != null && P.trendplot >= since))) P.trendAt = now;
  }
  if (P.kpiAt == null || P.mapAt == null || P.trendAt == null) return false;
  return {date, region, kpiAt: P.kpiAt, mapAt: P.mapAt, trendAt: P.trendAt, t0: P.t0};
}
"""

# Injected before any page script: input timestamps, and an in-page loop that checks the predicate on every
# animation frame from the moment it is started (before the input, for interactions; at document start, for loads),
# so that a main thread busy right after the input cannot make the first check late.
# One addition to the shared harness: a Resource Timing buffer large enough for every callback of a run (with the
# default 250 entries, the callbacks of the last interactions are not counted; timings are not affected).
INIT_JS = r"""
(() => {
  const P = window.__peer = {t0: null, afterplot: null, trendplot: null, result: null};
  performance.setResourceTimingBufferSize(100000);  // the default 250 entries fill up before the region changes
  for (const ev of ['pointerdown', 'keydown']) {
    window.addEventListener(ev, e => { P.t0 = e.timeStamp; }, true);
  }
  const pred = %s;
  P.run = (arg) => {
    P.result = null; P.kpiAt = null; P.mapAt = null; P.trendAt = null; P.err = null;
    if (P.raf) cancelAnimationFrame(P.raf);
    const tick = () => {
      let r = false;
      try { r = pred(arg); } catch (e) { P.err = String(e); }
      if (r) { P.result = r; P.raf = null; return; }
      P.raf = requestAnimationFrame(tick);
    };
    P.raf = requestAnimationFrame(tick);
  };
})();
""" % PREDICATE_JS.strip()  # noqa: UP031  (the predicate holds braces)

CALLBACKS_JS = r"""
(t0) => performance.getEntriesByType('resource')
  .filter(e => e.name.includes('_dash-update-component') && e.startTime >= t0)
  .map(e => [e.startTime, e.responseEnd, e.transferSize, e.encodedBodySize])
"""


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=600) as r:
        return json.loads(r.read())


def fmt_count(value, missing: str) -> str:
    """figures/formatting.count, re-stated (1234 -> '1,234'; >= 100000 -> '12.3万'), so that a change there shows."""
    if value is None:
        return missing
    value = float(value)
    if abs(value) >= 100_000:
        return f"{value / 10_000:,.1f}万".replace(".0万", "万")
    return f"{value:,.0f}"


def expected_view(base: str) -> dict:
    """From the app's own API, the numbers the page must show: {adcode: {day: {name, asof, kpis}}}, {day: {unit
    adcode: confirmed_cum}}, {label shown in the region dropdown: adcode}, the days (the shipped data: the shared
    harness's FIRST..LAST; another store: every day of its range)."""
    regs = get_json(f"{base}/api/v1/regions")
    top = [r for r in regs if r["level"] in ("province", "unit")]
    names = {r["adcode"]: r["name"] for r in top}
    for r in top:  # geo/regions.py display_name: a unit whose reported figure leaves another unit out
        r["display_name"] = (
            f"{r['name']}（不含{names[EXCLUDES[r['adcode']]]}）" if r["adcode"] in EXCLUDES else r["name"]
        )
    labels = {("陕西省（全省）" if r["level"] == "province" else r["display_name"]): r["adcode"] for r in top}
    every = [x["date"] for x in get_json(f"{base}/api/v1/timeseries?region={START_REGION}")]
    first, last = (FIRST, LAST) if FIRST in every and LAST in every else (every[0], every[-1])
    expected, mapz, days = {}, {}, None
    for r in top:
        rows = get_json(f"{base}/api/v1/timeseries?region={r['adcode']}&start={first}&end={last}")
        days = days or [x["date"] for x in rows]
        ex = expected.setdefault(r["adcode"], {})
        for x in rows:
            missing = {"missing": "未上报", "no_data": "无数据", "out_of_range": "无数据"}.get(x["status"], "未上报")
            d = x["date"]
            y, mo, da = d.split("-")
            ex[d] = {
                "name": r.get("display_name") or r["name"],
                "asof": f"截至{int(y)}年{int(mo)}月{int(da)}日24时",
                "kpis": [fmt_count(x[KPI_COLS[k]], missing) for k in KPI_KEYS],
            }
            if r["level"] == "unit" and x["confirmed_cum"] is not None:
                mapz.setdefault(d, {})[r["adcode"]] = x["confirmed_cum"]
    return {"expected": expected, "mapz": mapz, "labels": labels, "days": days}


def start(page, prev, kind) -> None:
    """Start the in-page per-frame check (before the input)."""
    page.evaluate(
        "([prev, kind]) => { const P = window.__peer; P.t0 = null; P.run(Object.assign({}, P.arg, {prev, kind})); }",
        [prev, kind],
    )


def wait_view(page):
    return page.wait_for_function("() => window.__peer.result", polling=POLL, timeout=WAIT_MS).json_value()


def load_arg(arg, start_date) -> dict:
    """The predicate's argument for a page load: only the start view's expected values."""
    return dict(
        arg,
        prev=None,
        kind="load",
        expected={START_REGION: {start_date: arg["expected"][START_REGION][start_date]}},
        mapz={start_date: arg["mapz"].get(start_date, {})},
    )


def first_load(browser, url, arg, start_date, label, reload_after=False):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(INIT_JS)
    context.add_init_script(f"window.__peer.run({json.dumps(load_arg(arg, start_date), ensure_ascii=False)});")
    page = context.new_page()
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(LOCAL_PREFIXES) else None)
    cdp, reqs = attach_network_meter(context, page)
    t_wall = time.perf_counter()
    page.goto(url, wait_until="commit")
    res = wait_view(page)
    wall_ms = (time.perf_counter() - t_wall) * 1000
    page.wait_for_timeout(1500)  # late requests, as in the shared harness
    nav = page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd,"
        " heap: performance.memory ? performance.memory.usedJSHeapSize : null}; }"
    )
    cbs = page.evaluate(CALLBACKS_JS, 0)
    http = [r for r in reqs.values() if "bytes" in r]
    top = sorted(http, key=lambda r: -r["bytes"])[:6]
    out = {
        "label": label,
        "kpi_ms": round(res["kpiAt"], 1),
        "map_ms": round(res["mapAt"], 1),
        "trend_ms": round(res["trendAt"], 1),
        "done_ms": round(max(res["kpiAt"], res["mapAt"], res["trendAt"]), 1),
        "wall_ms_from_goto": round(wall_ms, 1),
        "dom_content_loaded_ms": round(nav["dcl"], 1),
        "load_event_ms": round(nav["load"], 1),
        "http_requests": len(http),
        "http_bytes_on_wire": sum(r["bytes"] for r in http),
        "callback_requests": len(cbs),
        "callback_bytes_on_wire": sum(c[2] for c in cbs),
        "largest": [
            {"url": r.get("url", "")[-70:], "bytes": r["bytes"], "encoding": r.get("encoding", "")} for r in top
        ],
        "js_heap_mib": round(nav["heap"] / 2**20, 1) if nav["heap"] else None,
        "outside_requests": outside,
    }
    if reload_after:
        reqs.clear()
        t_wall = time.perf_counter()
        page.reload(wait_until="commit")
        res = wait_view(page)
        page.wait_for_timeout(1500)
        http = [r for r in reqs.values() if "bytes" in r]
        out["reload"] = {
            "kpi_ms": round(res["kpiAt"], 1),
            "map_ms": round(res["mapAt"], 1),
            "trend_ms": round(res["trendAt"], 1),
            "done_ms": round(max(res["kpiAt"], res["mapAt"], res["trendAt"]), 1),
            "wall_ms_from_reload": round((time.perf_counter() - t_wall) * 1000, 1),
            "http_requests": len(http),
            "http_bytes_on_wire": sum(r["bytes"] for r in http),
        }
    cdp.detach()
    page.evaluate("a => { window.__peer.arg = a; }", arg)  # the full expected values, once, for the interactions
    return context, page, out


def current_state(page, labels) -> dict:
    s = page.evaluate(
        "() => ({d: document.querySelector('#date-select-value').innerText.trim(),"
        " r: document.querySelector('#region-select-value').innerText.trim()})"
    )
    y, rest = s["d"].split("年")
    mo, rest = rest.split("月")
    return {"date": f"{y}-{int(mo):02d}-{int(rest.rstrip('日')):02d}", "region": labels[s["r"]]}


def measure_interaction(page, labels, kind, target, act):
    prev = current_state(page, labels)
    start(page, prev, kind)
    act()
    res = wait_view(page)
    page.wait_for_timeout(150)
    t0 = res["t0"]
    cbs = page.evaluate(CALLBACKS_JS, t0)
    upto = [c for c in cbs if c[1] <= max(res["kpiAt"], res["mapAt"]) + 0.5]
    return {
        "kind": kind,
        "target": target,
        "region": res["region"],
        "date": res["date"],
        "kpi_ms": round(res["kpiAt"] - t0, 1),
        "map_ms": round(res["mapAt"] - t0, 1),
        "trend_ms": round(res["trendAt"] - t0, 1),
        "done_ms": round(max(res["kpiAt"], res["mapAt"], res["trendAt"]) - t0, 1),
        "first_callback_sent_ms": round(min(c[0] for c in cbs) - t0, 1) if cbs else None,
        "callbacks_until_done": len(upto),
        "callbacks_total": len(cbs),
        "callback_bytes": sum(c[2] for c in cbs),
        "callback_max_ms": round(max(c[1] - c[0] for c in cbs), 1) if cbs else None,
    }


def change_date(page, index, n_days):
    root = page.locator("#date-slider .dash-slider-root")
    box = root.bounding_box()
    x = box["x"] + box["width"] * index / (n_days - 1)
    y = box["y"] + box["height"] / 2
    return lambda: page.mouse.click(x, y)


def change_region(page, name, adcode):
    page.locator("#region-select").click()
    search = page.locator(".dash-dropdown-content input.dash-dropdown-search")
    search.wait_for(state="visible", timeout=WAIT_MS)
    search.fill(name)
    option = page.locator(f'.dash-dropdown-content label.dash-dropdown-option:has(input[value="{adcode}"])').first
    option.wait_for(state="visible", timeout=WAIT_MS)
    page.wait_for_timeout(100)
    return lambda: option.click()


# ---------------------------------------------------------------------------------------------------------------
# the server


def server_env(port: int, database_url: str) -> dict:
    return dict(
        os.environ,
        HOST="127.0.0.1",
        PORT=str(port),
        DATABASE_URL=database_url,
        PYTHONDONTWRITEBYTECODE="1",
        LOG_LEVEL="WARNING",
    )


def start_server(database_url: str, log_path: Path) -> tuple[str, subprocess.Popen, float]:
    """`python app.py` on a free port; returns once /health answers 200 (seconds from the start to that)."""
    port = free_port()
    log = log_path.open("w")
    t_start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=server_env(port, database_url), stdout=log, stderr=subprocess.STDOUT
    )
    log.close()
    base = f"http://127.0.0.1:{port}"
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=1) as r:
                if r.status == 200:
                    return base, proc, time.perf_counter() - t_start
        except OSError:
            pass
        if proc.poll() is not None or time.perf_counter() - t_start > 900:
            stop_server(proc)
            raise SystemExit(f"the app did not start; see {log_path}:\n{log_path.read_text()[-2000:]}")
        time.sleep(0.1)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()  # SIGTERM to the server's own PID
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def prepare(database_url: str) -> dict:
    """The expected values, from a server on the same store started for this only (it also creates and fills the
    store on first use); waits for the case table (/api/v1/summary) before reading."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    base, proc, _ = start_server(database_url, RESULTS / "interaction-prepare.log")
    try:
        get_json(f"{base}/api/v1/summary?region={START_REGION}")
        return expected_view(base)
    finally:
        stop_server(proc)


def one_run(database_url: str, arg: dict, days: list[str], labels: dict, args, run: int) -> dict:
    start_date = next((d for d in START_DATES if d in days), days[len(days) // 2])
    path = f"/?region={START_REGION}&date={start_date}"
    quiet = cpu_snapshot(-1)
    time.sleep(2)
    quiet = cpu_delta(quiet, cpu_snapshot(-1))["other_load_pct_of_machine"]
    if quiet > 10:
        print(f"WARNING: other processes use {quiet}% of this machine's CPU", file=sys.stderr)
    log_path = RESULTS / f"interaction-server-{run}.log"
    base, server, start_s = start_server(database_url, log_path)
    result: dict = {
        "run": run,
        "url": base + path,
        "server_pid": server.pid,
        "server_start_s": round(start_s, 2),
        "other_load_pct_before_start": quiet,
        "loadavg_before": Path("/proc/loadavg").read_text().strip(),
        "memory": {"after_start": proc_stats(server.pid)},
    }
    try:
        cpu_run0 = cpu_snapshot(server.pid)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            result["browser"] = browser.version
            ctx, page, cold = first_load(browser, base + path, arg, start_date, "cold")
            ctx.close()
            result["memory"]["after_cold_load"] = proc_stats(server.pid)
            ctx, page, warm = first_load(browser, base + path, arg, start_date, "warm", reload_after=True)
            result["first_load"] = {"cold_server": cold, "warm_server": warm}
            result["memory"]["after_warm_loads"] = proc_stats(server.pid)
            cpu0 = cpu_snapshot(server.pid)
            rng = random.Random(args.seed)
            samples = []
            # the slider runs over the view range (index 0 = its first day); targets are the data's days
            slider = page.locator("#date-slider [role=slider]")
            n_slider = int(slider.get_attribute("aria-valuemax")) + 1
            state = current_state(page, labels)
            d0 = dt.date.fromisoformat(state["date"]) - dt.timedelta(days=int(slider.get_attribute("aria-valuenow")))
            n = len(days)
            cur = days.index(state["date"])
            for _ in range(args.dates):
                idx = rng.choice([i for i in range(n) if abs(i - cur) >= 5])
                slider_index = (dt.date.fromisoformat(days[idx]) - d0).days
                s = measure_interaction(page, labels, "date", days[idx], change_date(page, slider_index, n_slider))
                samples.append(s)
                cur = days.index(s["date"]) if s["date"] in days else cur
                page.wait_for_timeout(250)
            code = {name: labels.get(name) or labels["陕西省（全省）"] for name in NAMES}
            for i in range(args.regions):
                name = NAMES[i % len(NAMES)]
                if code[name] == current_state(page, labels)["region"]:
                    name = NAMES[(i + 1) % len(NAMES)]
                s = measure_interaction(page, labels, "region", name, change_region(page, name, code[name]))
                s["target"] = code[name]
                samples.append(s)
                page.wait_for_timeout(250)
            result["memory"]["after_interactions"] = proc_stats(server.pid)
            cpu1 = cpu_snapshot(server.pid)
            ctx.close()
            browser.close()
        result["interactions"] = samples
        result["target_mismatches"] = sum(1 for s in samples if s["target"] not in (s["date"], s["region"]))
        result["cpu_interactions"] = cpu_delta(cpu0, cpu1)
        result["cpu_whole_run"] = cpu_delta(cpu_run0, cpu1)
        result["server_cpu_s_per_interaction"] = round((cpu1["server"] - cpu0["server"]) / len(samples), 3)
        result["client_cpu_s_per_interaction"] = round((cpu1["client"] - cpu0["client"]) / len(samples), 3)
    finally:
        if server.poll() is None:
            result["memory"]["before_stop"] = proc_stats(server.pid)
        stop_server(server)
        result["loadavg_after"] = Path("/proc/loadavg").read_text().strip()
    return result


# ---------------------------------------------------------------------------------------------------------------
# the table


def table(runs: list[dict]) -> list[tuple[str, dict | None, str]]:
    """(measure, summary over every run, unit) rows: the issue's measures, pooled."""
    rows = []

    def add(label, values, unit="ms"):
        rows.append((label, summary(values), unit))

    for kind in ("date", "region"):
        ss = [s for r in runs for s in r["interactions"] if s["kind"] == kind]
        add(f"{kind} change -> KPIs shown", [s["kpi_ms"] for s in ss])
        add(f"{kind} change -> map redrawn", [s["map_ms"] for s in ss])
        add(f"{kind} change -> trend marker / redrawn", [s["trend_ms"] for s in ss])
        add(f"{kind} change -> all three", [s["done_ms"] for s in ss])
        add(f"{kind} change: callbacks sent", [s["callbacks_total"] for s in ss], "")
        add(f"{kind} change: first callback sent after", [s["first_callback_sent_ms"] for s in ss])
    for key, label in (("cold_server", "cold server"), ("warm_server", "warm server, empty cache")):
        fl = [r["first_load"][key] for r in runs]
        add(f"first load ({label}) -> KPIs", [f["kpi_ms"] for f in fl])
        add(f"first load ({label}) -> map", [f["map_ms"] for f in fl])
        add(f"first load ({label}) -> trend", [f["trend_ms"] for f in fl])
        add(f"first load ({label}): bytes on wire", [f["http_bytes_on_wire"] for f in fl], "B")
    rl = [r["first_load"]["warm_server"]["reload"] for r in runs]
    add("reload (browser cache warm) -> KPIs", [f["kpi_ms"] for f in rl])
    add("reload (browser cache warm) -> map", [f["map_ms"] for f in rl])
    add("reload (browser cache warm): bytes on wire", [f["http_bytes_on_wire"] for f in rl], "B")
    add("server start -> /health 200", [r["server_start_s"] * 1000 for r in runs])
    add("server RSS after warm-up (first loads)", [r["memory"]["after_warm_loads"]["rss_mib"] for r in runs], "MiB")
    add("server RSS after the interactions", [r["memory"]["after_interactions"]["rss_mib"] for r in runs], "MiB")
    add(
        "server RSS peak (VmHWM)",
        [r["memory"].get("before_stop", r["memory"]["after_interactions"])["peak_rss_mib"] for r in runs],
        "MiB",
    )
    add("server CPU per interaction", [r["server_cpu_s_per_interaction"] * 1000 for r in runs], "ms")
    add("browser+driver CPU per interaction", [r["client_cpu_s_per_interaction"] * 1000 for r in runs], "ms")
    add("other load during interactions", [r["cpu_interactions"]["other_load_pct_of_machine"] for r in runs], "%")
    return rows


def print_table(rows) -> None:
    head = f"| {'measure':<52} | {'n':>3} | {'p50':>9} | {'p95':>9} | unit |"
    print(head)
    print("|" + "|".join("-" * (len(c) + 0) for c in head.split("|")[1:-1]) + "|")
    for label, s, unit in rows:
        if s is None:
            print(f"| {label:<52} | {0:>3} | {'-':>9} | {'-':>9} | {unit:<4} |")
            continue
        p50, p95 = (f"{s['p50'] / 1e6:.2f}M", f"{s['p95'] / 1e6:.2f}M") if unit == "B" else (s["p50"], s["p95"])
        print(f"| {label:<52} | {s['n']:>3} | {p50:>9} | {p95:>9} | {unit:<4} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=1, help="runs, each with a fresh server (default 1)")
    ap.add_argument("--dates", type=int, default=20, help="date changes per run")
    ap.add_argument("--regions", type=int, default=10, help="region changes per run")
    ap.add_argument("--seed", type=int, default=2020)
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--store", help="a SQLite file or a database URL (default: DATABASE_URL, else a store here)")
    where.add_argument("--scale", action="store_true", help="the scale data set (benchmarks.bench.scale_store)")
    ap.add_argument("--out", default=str(RESULTS / "interaction.json"))
    args = ap.parse_args()

    if args.scale:
        from benchmarks.bench import scale_store  # noqa: PLC0415  (generates the scale set once: minutes)

        database_url = scale_store()
    elif args.store:
        database_url = args.store if "://" in args.store else f"sqlite:///{Path(args.store).resolve()}"
    else:
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_STORE}"
    print(f"interaction: store {database_url}; preparing the expected values from the app's API", flush=True)
    prepared = prepare(database_url)
    days, labels = prepared["days"], prepared["labels"]
    arg = {
        "expected": prepared["expected"],
        "mapz": prepared["mapz"],
        "labels": labels,
        "province": START_REGION,
        "kpiIds": [f"kpi-{k}" for k in KPI_KEYS],
    }
    runs = []
    for i in range(1, args.runs + 1):
        print(
            f"interaction: run {i}/{args.runs} ({args.dates} date changes, {args.regions} region changes)", flush=True
        )
        runs.append(one_run(database_url, arg, days, labels, args, i))
    rows = table(runs)
    out = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "store": database_url,
        "data": "scale" if args.scale else "default",
        "config": {"runs": args.runs, "dates": args.dates, "regions": args.regions, "seed": args.seed},
        "cpus": os.cpu_count(),
        "versions": versions(),
        "days": [days[0], days[-1], len(days)],
        "table": [{"measure": label, "unit": unit, **(s or {})} for label, s, unit in rows],
        "runs": runs,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1))
    print(
        f"\n{len(runs)} run(s), {runs[0].get('browser', '')}, {os.cpu_count()} CPUs; "
        f"target mismatches {sum(r['target_mismatches'] for r in runs)}; "
        f"requests outside 127.0.0.1 {sum(len(f['outside_requests']) for r in runs for f in r['first_load'].values())}"
    )
    print_table(rows)
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
