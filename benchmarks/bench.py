"""Benchmark of `/` as a user drives it: `python -m benchmarks.bench` (or `make bench`).

1. Starts the app (`python app.py`) on a free port with its own store (or uses --url). With --scale the store is
   the scale data set (data/scale.py: 107 counties x 3 years, 1M case-list rows, 100k facilities, 5M flow rows),
   generated once into benchmarks/results/scale.sqlite (a few minutes) and reused.
2. Opens `/` in headless chromium, records the first load (bytes over the wire and uncompressed, from the
   Performance API), then performs each main interaction once and records the callback requests it makes.
3. Replays each recorded callback request N times over HTTP: server time p50/p95 (loopback, so this is the
   server's time plus a fraction of a millisecond), and the floor: the time to serialise the figures it returns
   (plotly's JSON encoder on the response), with the ratio of p95 to it.
4. Times in the browser from a date change to the map redrawn (plotly_afterplot), median of several.
Prints a table; writes benchmarks/results/latest.json (or scale.json).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright
from plotly.io.json import to_json_plotly

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SCALE_DB = RESULTS / "scale.sqlite"


def scale_store() -> str:
    """The scale data set's store, generated on first use (`flask scale-data`)."""
    url = f"sqlite:///{SCALE_DB}"
    if not SCALE_DB.exists():
        RESULTS.mkdir(parents=True, exist_ok=True)
        print("generating the scale data set (once) ...", flush=True)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app:server", "scale-data"],
            cwd=ROOT,
            check=True,
            env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"},
        )
        print(f"... {time.perf_counter() - t0:.0f} s", flush=True)
    return url


def start_app(database_url: str | None = None, day: str = "2020-02-15") -> tuple[str, subprocess.Popen]:
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url
        or os.environ.get("DATABASE_URL")
        or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite",
    }
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 900
    while time.time() < deadline:
        try:  # these need the derived case and flow tables: this waits for the warm-up (a minute at scale)
            urllib.request.urlopen(f"{url}/api/v1/summary?region=610000", timeout=600)
            urllib.request.urlopen(f"{url}/api/v1/flows?region=610100&date={day}", timeout=600)
            return url, proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("app did not start")


def _memory_mb(pid: int) -> dict:
    """RSS now and its peak (VmHWM) of a process, MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024)
    return {"rss_mb": out.get("VmRSS"), "peak_mb": out.get("VmHWM")}


def startup(database_url: str, day: str) -> dict:
    """Start `python app.py` on the store and time it (issue 22): seconds from the start to the first 200 of
    `/health`, of `/`, of the first answer from the data (`/api/v1/summary`, after the case table is built) and of a
    flow ranking (`/api/v1/flows`); the process's RSS once the warm-up has settled (unchanged for 10 s) and its peak;
    then the server time of one view uncached (``view_times``)."""
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "WARNING", "DATABASE_URL": database_url}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    url, out = f"http://127.0.0.1:{port}", {}
    try:
        for label, path in (
            ("health_s", "/health"),
            ("page_s", "/"),
            ("first_data_answer_s", "/api/v1/summary?region=610000"),
            ("flow_ranking_s", f"/api/v1/flows?region=610100&date={day}"),
        ):
            while True:
                try:
                    urllib.request.urlopen(url + path, timeout=600).read()
                    break
                except OSError:
                    if proc.poll() is not None or time.perf_counter() - t0 > 900:
                        raise SystemExit("app did not start") from None
                    time.sleep(0.1)
            out[label] = round(time.perf_counter() - t0, 2)
        last, steady = 0, 0
        while steady < 10:  # the warm-up thread goes on after the first answers
            time.sleep(1)
            rss = _memory_mb(proc.pid)["rss_mb"]
            steady, last = (steady + 1 if abs(rss - last) <= 2 else 0), rss
        out.update(_memory_mb(proc.pid))
    finally:
        proc.terminate()
        proc.wait(30)
    out["views_uncached_ms"] = view_times(database_url, day)
    return out


VIEW_REGIONS = ("610000", "610100", "610113")  # the province, 西安 (its counties), a county of 西安


def view_times(database_url: str, day: str) -> dict:
    """Server time of one view with the shared cache and the small per-version results cleared, the case table and
    the flow summary built (a warmed worker): KPIs (``views.kpis.kpi_texts``), map (``views.maps.build_map``),
    trend (``views.trends.trend_figure``) and the flow view (``views.flows.flow_view``), in a process of its own."""
    code = f"from benchmarks.bench import _view_times_here; _view_times_here({day!r})"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _view_times_here(day: str) -> None:
    # the app's modules are loaded only in the child process ``view_times`` starts, on the store it names
    import app  # noqa: PLC0415  (in the child process, on its store)
    from data import cache, flow_queries, queries, store  # noqa: PLC0415  (in the child process, on its store)
    from figures.metrics import DEFAULT_METRIC  # noqa: PLC0415  (in the child process, on its store)
    from views import flows, kpis, maps, trends  # noqa: PLC0415  (in the child process, on its store)

    app.create_app()
    queries.case_data()
    flow_queries.flow_data()
    out = {}
    for region in VIEW_REGIONS:
        cache.shared_cache().clear()
        for memo in store._memos:  # noqa: SLF001  (a benchmark: every per-version entry but the tables themselves)
            for _, values in list(memo.entries.values()):
                for args in [a for a in values if a != ()]:
                    values.pop(args)
        steps = {
            "kpis": lambda region=region: kpis.kpi_texts(region, day),
            "map": lambda region=region: maps.build_map(region, day, DEFAULT_METRIC, []),
            "trend": lambda region=region: trends.trend_figure("cases", region, day, [], []),
            "flows": lambda region=region: flows.flow_view(region, day, "in", "national", "city", None),
        }
        times = {}
        for name, step in steps.items():
            t0 = time.perf_counter()
            step()
            times[name] = round((time.perf_counter() - t0) * 1000)
        times["kpis_map_trend"] = times["kpis"] + times["map"] + times["trend"]
        out[region] = times
    print(json.dumps(out))


def print_startup(result: dict) -> None:
    print(
        f"start: /health {result['health_s']} s, / {result['page_s']} s, first data answer"
        f" {result['first_data_answer_s']} s, flow ranking {result['flow_ranking_s']} s; RSS after warm-up"
        f" {result['rss_mb']} MB (peak {result['peak_mb']} MB)"
    )
    for region, times in result["views_uncached_ms"].items():
        print(f"one view uncached, {region}: " + ", ".join(f"{k} {v} ms" for k, v in times.items()))


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


_JAR = http.cookiejar.CookieJar()
_BROWSER = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(_JAR))


def _csrf_token(url: str) -> str:
    """The token a page visit sets in the _csrf_token cookie; Dash sends it back as X-CSRFToken."""
    if not any(c.name == "_csrf_token" for c in _JAR):
        _BROWSER.open(f"{url}/").read()
    return next(c.value for c in _JAR if c.name == "_csrf_token")


def replay(url: str, body: bytes, n: int) -> tuple[list[float], bytes]:
    """Server time of a callback request, n times; and its last (uncompressed) answer."""
    times, answer = [], b""
    for _ in range(n):
        request = urllib.request.Request(
            f"{url}/_dash-update-component",
            data=body,
            headers={"Content-Type": "application/json", "X-CSRFToken": _csrf_token(url)},
        )
        t0 = time.perf_counter()
        with _BROWSER.open(request) as response:
            answer = response.read()
        times.append((time.perf_counter() - t0) * 1000)
    return times, answer


def serialisation_floor(answer: bytes, n: int = 20) -> float:
    """Median time to serialise what a callback returned (figures, tables) with plotly's JSON encoder: the least
    any server could spend on it."""
    if not answer:
        return 0.0
    payload = json.loads(answer)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        to_json_plotly(payload)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


INTERACTIONS = {
    # label -> (javascript/playwright action, which callback outputs to keep)
    "date change": "date",
    "region change": "region",
    "metric change": "metric",
    "layer toggle": "layer",
    "flow view": "flows",
}


def run(url: str, n: int, day: str = "2020-02-15") -> dict:
    results: dict = {"url": url, "day": day, "callbacks": {}}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        posts: list[tuple[str, bytes]] = []
        page.on("request", lambda r: r.method == "POST" and "_dash-update-component" in r.url and posts.append(r))
        pending_days: set = set()  # requests for the map's day values not answered yet
        page.on(
            "request", lambda r: r.method == "POST" and "map-days.data" in (r.post_data or "") and pending_days.add(r)
        )
        page.on("requestfinished", lambda r: pending_days.discard(r))
        page.on("requestfailed", lambda r: pending_days.discard(r))
        t0 = time.perf_counter()
        page.goto(f"{url}/?region=610000&date={day}")
        page.wait_for_function(
            "() => document.querySelector('#region-map .js-plotly-plot')?.data?.length >= 5"
            " && document.querySelector('#region-map .maplibregl-canvas')"
        )
        page.wait_for_timeout(1500)
        results["first_load_map_drawn_ms"] = round((time.perf_counter() - t0) * 1000 - 1500)
        sizes = page.evaluate("""() => performance.getEntriesByType('resource').concat(
            performance.getEntriesByType('navigation')).filter(e => !e.name.includes('_dash-update-component'))
            .reduce((a, e) => [a[0] + e.transferSize, a[1] + e.decodedBodySize], [0, 0])""")
        results["first_load_bytes"] = {"transferred": sizes[0], "uncompressed": sizes[1]}

        def act(kind):
            posts.clear()
            if kind == "date":
                page.click("#date-next")
            elif kind == "region":
                page.locator("#unit-table").get_by_role("button", name="西安市", exact=True).click()
            elif kind == "metric":
                page.click("#metric-select")
                page.locator(".dash-dropdown-option", has_text="现有确诊").click()
            elif kind == "layer":
                page.get_by_role("checkbox", name="发热门诊", exact=True).check()
                page.get_by_role("checkbox", name="定点药店", exact=True).check()
            elif kind == "flows":  # scrolled into view, the flow views catch up; then the scope changes
                page.locator("section.flows").scroll_into_view_if_needed()
                page.wait_for_timeout(3000)
                page.get_by_label("省内").check()
            page.wait_for_timeout(3000)
            page.evaluate("() => window.scrollTo(0, 0)")
            return list(posts)

        for label, kind in INTERACTIONS.items():
            recorded = act(kind)
            per_callback = {}
            for request in recorded:
                output, body = request.post_data_json["output"], request.post_data_buffer
                timing = request.timing  # the browser's own request: the first time the server saw these inputs
                first = timing["responseEnd"] - timing["requestStart"] if timing["responseEnd"] > 0 else None
                times, answer = replay(url, body, n)
                floor = serialisation_floor(answer)
                p95 = percentile(times, 95)
                per_callback[output.split("..")[1] if output.startswith("..") else output] = {
                    "first_ms": round(first, 1) if first is not None else None,
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(p95, 1),
                    "floor_ms": round(floor, 2),
                    "p95_over_floor": round(p95 / floor, 1) if floor > 0.05 else None,
                    "bytes": len(answer),
                }
            results["callbacks"][label] = per_callback

        # browser: date change -> map redrawn. A date step recolours the map from the view's day values (the
        # map-days store, asked for on a region or metric change); measured once they are in the page.
        for _ in range(300):
            if not pending_days:
                break
            page.wait_for_timeout(200)
        redraws = []
        for _ in range(7):
            ms = page.evaluate("""() => new Promise(resolve => {
                const gd = document.querySelector('#region-map .js-plotly-plot');
                const t0 = performance.now();
                gd.once('plotly_afterplot', () => resolve(performance.now() - t0));
                document.getElementById('date-next').click(); })""")
            redraws.append(ms)
            page.wait_for_timeout(300)
        results["browser_date_change_to_map_redrawn_ms"] = {
            "median": round(statistics.median(redraws)),
            "max": round(max(redraws)),
        }
        browser.close()
    # the wall screen's poll: the callback it sends every 15 s, replayed
    poll = json.dumps(
        {
            "output": "data-version.data",
            "outputs": {"id": "data-version", "property": "data"},
            "inputs": [{"id": "data-poll", "property": "n_intervals", "value": 1}],
            "changedPropIds": ["data-poll.n_intervals"],
            "state": [{"id": "data-version", "property": "data", "value": "stale"}],
        }
    ).encode()
    times, _ = replay(url, poll, n)
    results["wall_poll_ms"] = {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 95), 2)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="benchmark a running app instead of starting one")
    parser.add_argument("-n", type=int, default=30, help="replays of each callback request")
    parser.add_argument("--scale", action="store_true", help="on the scale data set (generated once)")
    parser.add_argument(
        "--startup-only",
        metavar="DATABASE_URL",
        help="only time the start, memory and one uncached view of the app on this store (e.g. the 10x set)",
    )
    args = parser.parse_args()
    if args.startup_only:
        result = startup(args.startup_only, "2025-06-01")
        print(json.dumps(result, ensure_ascii=False))
        print_startup(result)
        return
    proc = None
    url = args.url
    day = "2025-06-01" if args.scale else "2020-02-15"
    if not url:
        url, proc = start_app(scale_store() if args.scale else None, day)
    try:
        results = run(url, args.n, day)
    finally:
        if proc:
            proc.terminate()
    results["data"] = "scale" if args.scale else "default"
    if args.scale and not args.url:  # issue 22: start time, memory and an uncached view on the scale set
        results["startup"] = startup(scale_store(), day)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / ("scale.json" if args.scale else "latest.json")).write_text(
        json.dumps(results, ensure_ascii=False, indent=2)
    )
    b = results["first_load_bytes"]
    print(
        f"first load of /: {b['transferred'] / 1e6:.2f} MB transferred, {b['uncompressed'] / 1e6:.2f} MB uncompressed;"
        f" map drawn after {results['first_load_map_drawn_ms']} ms"
    )
    print(
        f"browser, date change -> map redrawn: median {results['browser_date_change_to_map_redrawn_ms']['median']} ms"
    )
    print(f"wall poll: p50 {results['wall_poll_ms']['p50_ms']} ms, p95 {results['wall_poll_ms']['p95_ms']} ms")
    if "startup" in results:
        print_startup(results["startup"])
    print(
        "first: the browser's own request (the first time the server saw those inputs); p50/p95: the same request"
        " replayed (shared cache warm); floor: serialising the answer"
    )
    print(
        f"{'interaction':<14} {'callback output':<46} {'first':>7} {'p50 ms':>7} {'p95 ms':>7} {'floor ms':>8}"
        f" {'p95/floor':>9} {'bytes':>8}"
    )
    for label, callbacks in results["callbacks"].items():
        for output, t in callbacks.items():
            ratio = "" if t["p95_over_floor"] is None else t["p95_over_floor"]
            first = "" if t["first_ms"] is None else t["first_ms"]
            print(
                f"{label:<14} {output[:46]:<46} {first:>7} {t['p50_ms']:>7} {t['p95_ms']:>7} {t['floor_ms']:>8}"
                f" {ratio:>9} {t['bytes']:>8}"
            )


if __name__ == "__main__":
    main()
