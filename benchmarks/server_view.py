"""The server's cost of one view of `/`, uncached: `python -m benchmarks.server_view` (part of `make bench`).

Issue 22's floor: "one view (KPIs + map + trend) uncached <= 13 ms p50"; the Superset peer measured 131 ms for "KPIs,
the 12 units, the series". This times, in one process with the store open and its base data loaded once
(``app.process_app()`` as a served process does, its warm-up thread waited for), ~50 seeded random (region, day)
pairs: the region drawn from the province, its 12 reporting units and a few counties, the day from the data's view
range. Two variants, reported apart:

- **view** (what the page's callbacks build): the KPI row ``views.kpis.kpi_texts(region, day)``, the map
  ``views.maps.build_map(region, day, DEFAULT_METRIC, ())`` and the trend
  ``views.trends.trend_figure("region", region, day, [], [region])`` (with its forecast fan made on the day); each
  part timed as built, and as built and then serialised to JSON (plotly's encoder for the figures, ``json.dumps``
  for the KPI texts), which is what a callback answer costs the server before the network.
- **data only** (what the Superset number covers): the KPI summary ``data.queries.summary`` (its ``.uncached``
  function), the 12 units' values on the day ``data.queries.on_day`` (``.uncached``) and the region's series
  ``data.queries.region_series``, all three serialised to JSON.

"Uncached": before every part (and so every pair) the shared cache of small results is made anew and empty
(``data.cache.reset(url="")``: a fresh in-process cache, Redis never used, so every ``cache.memoize`` function -
``queries.summary``, ``queries.on_day``, ``forecasts.forecast`` ... - misses), and every ``store.per_version`` memo is
emptied except those of the base tables (``queries.case_data``, ``flow_queries.flow_data``: the day-by-day case
table and the flow summary, what a warmed worker holds), so a day's importation risk, facility frames, coverage and
the like are built again. What is read from files shipped with the code (boundaries, regions: ``functools.lru_cache``)
stays loaded. One untimed pair first (imports, first-use set-up).

Prints a table (p50 / p95 ms of each part and of the sums); writes benchmarks/results/server_view.json.

Usage: python -m benchmarks.server_view [--pairs 50] [--seed 2020] [--store PATH | --scale]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_STORE = RESULTS / "interaction.sqlite"  # the store benchmarks/interaction.py makes (shipped data)
N_COUNTIES = 3


def pct(values, q):
    return round(float(np.percentile(values, q)), 2) if values else None


def stats(values) -> dict:
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95), "max": round(max(values), 2)}


def open_app(database_url: str):
    """The app of this process, serving-ready on the store (opened, filled on first use, base data built)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("CACHE_REDIS_URL", None)  # the in-process cache: nothing shared with another process
    sys.path.insert(0, str(ROOT))
    import app  # noqa: PLC0415  (only once the store is chosen)

    app.process_app()
    for thread in threading.enumerate():  # the warm-up a serving process starts: let it finish, so it does not
        if thread.name == "warm-caches":  # share the CPU with the timed calls
            thread.join()
    return app


def base_memos() -> tuple[set[int], str]:
    """ids of the ``per_version`` memos that hold the base tables, and how they were found."""
    from data import flow_queries, queries, store  # noqa: PLC0415  (after DATABASE_URL names the store)

    found = set()
    for fn in (getattr(queries, "case_data", None), getattr(flow_queries, "flow_data", None)):
        for cell in getattr(fn, "__closure__", None) or ():
            if isinstance(cell.cell_contents, store._VersionMemo):  # noqa: SLF001  (a benchmark)
                found.add(id(cell.cell_contents))
    if found:
        return found, "case_data and flow_data memos kept, every other per_version memo emptied"
    return set(), "every per_version entry with arguments emptied (those without arguments kept)"


def uncache(keep: set[int]) -> None:
    """A fresh, empty shared cache; every per-version memo but the base tables' emptied."""
    from data import cache, store  # noqa: PLC0415  (after DATABASE_URL names the store)

    cache.reset(url="")
    for memo in store._memos:  # noqa: SLF001  (a benchmark)
        if id(memo) in keep:
            continue
        with memo.lock:
            for _, values in list(memo.entries.values()):
                for args in [a for a in values if keep or a != ()]:
                    values.pop(args)


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0) * 1000, out


def pairs(n: int, seed: int) -> list[tuple[str, str]]:
    from data import queries  # noqa: PLC0415  (after DATABASE_URL names the store)
    from geo import regions  # noqa: PLC0415  (after DATABASE_URL names the store)
    from geo.units import PROVINCE  # noqa: PLC0415  (after DATABASE_URL names the store)

    rng = random.Random(seed)
    units = [u.adcode for u in regions.units()]
    counties = sorted(c.adcode for u in units for c in regions.counties(u))
    pool = [PROVINCE, *units, *rng.sample(counties, min(N_COUNTIES, len(counties)))]
    start, end = queries.view_range()
    span = (end - start).days
    import datetime as dt  # noqa: PLC0415  (after DATABASE_URL names the store)

    return [(rng.choice(pool), (start + dt.timedelta(days=rng.randint(0, span))).isoformat()) for _ in range(n)]


def view_parts(region: str, day: str, keep: set[int]) -> dict:
    from plotly.io.json import to_json_plotly  # noqa: PLC0415  (after DATABASE_URL names the store)

    from data import forecasts  # noqa: PLC0415  (after DATABASE_URL names the store)
    from figures.metrics import DEFAULT_METRIC  # noqa: PLC0415  (after DATABASE_URL names the store)
    from views import kpis, maps, trends  # noqa: PLC0415  (after DATABASE_URL names the store)

    out = {}
    for name, build, encode in (
        ("kpis", lambda: kpis.kpi_texts(region, day), lambda v: json.dumps(v, ensure_ascii=False)),
        ("map", lambda: maps.build_map(region, day, DEFAULT_METRIC, ()), to_json_plotly),
        ("trend", lambda: trends.trend_figure("region", region, day, [], [region]), to_json_plotly),
    ):
        uncache(keep)
        built_ms, value = timed(build)
        json_ms, _ = timed(lambda value=value, encode=encode: encode(value))
        out[name] = built_ms
        out[f"{name}+json"] = built_ms + json_ms
    uncache(keep)  # not in the sums: how much of the trend is its forecast fan, made on the day
    out["forecast"], _ = timed(lambda: forecasts.forecast.uncached(region, day))
    return out


def data_parts(region: str, day: str, keep: set[int]) -> dict:
    from data import queries  # noqa: PLC0415  (after DATABASE_URL names the store)

    def summary_json():
        return json.dumps(queries.summary.uncached(region, day), ensure_ascii=False, default=str)

    def units_json():
        return queries.on_day.uncached(day, "unit").to_json(orient="records", date_format="iso", force_ascii=False)

    def series_json():
        series = queries.region_series(region)
        return "null" if series is None else series.to_json(orient="split", date_format="iso", force_ascii=False)

    out = {}
    for name, fn in (("summary", summary_json), ("12 units on the day", units_json), ("series", series_json)):
        uncache(keep)
        out[name], _ = timed(fn)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=50, help="(region, day) pairs")
    ap.add_argument("--seed", type=int, default=2020)
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--store", help="a SQLite file or a database URL (default: DATABASE_URL, else a store here)")
    where.add_argument("--scale", action="store_true", help="the scale data set (benchmarks.bench.scale_store)")
    ap.add_argument("--out", default=str(RESULTS / "server_view.json"))
    args = ap.parse_args()
    if args.scale:
        from benchmarks.bench import scale_store  # noqa: PLC0415  (generates the scale set once: minutes)

        database_url = scale_store()
    elif args.store:
        database_url = args.store if "://" in args.store else f"sqlite:///{Path(args.store).resolve()}"
    else:
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_STORE}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(f"server_view: store {database_url}; opening it and building the base data", flush=True)
    t0 = time.perf_counter()
    open_app(database_url)
    ready_s = time.perf_counter() - t0
    keep, how = base_memos()
    chosen = pairs(args.pairs, args.seed)
    view_parts(*chosen[0], keep)  # untimed: first use of every code path
    data_parts(*chosen[0], keep)
    views, data = [], []
    for region, day in chosen:
        views.append(view_parts(region, day, keep))
        data.append(data_parts(region, day, keep))
    for v in views:
        v["sum"] = v["kpis"] + v["map"] + v["trend"]
        v["sum+json"] = v["kpis+json"] + v["map+json"] + v["trend+json"]
    for d in data:
        d["sum"] = sum(d.values())
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "store": database_url,
        "pairs": args.pairs,
        "seed": args.seed,
        "cpus": os.cpu_count(),
        "loadavg": Path("/proc/loadavg").read_text().strip(),
        "open_and_base_data_s": round(ready_s, 1),
        "uncached_by": f"data.cache.reset(url='') before every part; {how}",
        "regions": sorted({r for r, _ in chosen}),
        "days": [min(d for _, d in chosen), max(d for _, d in chosen)],
        "view": {k: stats([v[k] for v in views]) for k in views[0]},
        "data_only": {k: stats([d[k] for d in data]) for k in data[0]},
        "samples": [
            {"region": r, "day": day, "view": {k: round(x, 2) for k, x in v.items()}, "data_only": d}
            for (r, day), v, d in zip(chosen, views, data, strict=True)
        ],
    }
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(
        f"\n{args.pairs} (region, day) pairs, seed {args.seed}, {len(result['regions'])} regions, days "
        f"{result['days'][0]}..{result['days'][1]}; uncached: {result['uncached_by']}; loadavg {result['loadavg']}"
    )
    print(f"| {'server time of one view, uncached':<66} | {'p50 ms':>8} | {'p95 ms':>8} |")
    print(f"|{'-' * 68}|{'-' * 10}|{'-' * 10}|")
    labels = {
        "kpis": "view: KPI row (kpi_texts)",
        "map": "view: map (build_map)",
        "trend": "view: trend (trend_figure, with its forecast)",
        "forecast": "view: trend's forecast alone (forecasts.forecast; in the above)",
        "sum": "view: KPIs + map + trend, built",
        "kpis+json": "view: KPI row, built + JSON",
        "map+json": "view: map, built + JSON",
        "trend+json": "view: trend, built + JSON",
        "sum+json": "view: KPIs + map + trend, built + JSON  (issue's floor: 13)",
    }
    for key, label in labels.items():
        s = result["view"][key]
        print(f"| {label:<66} | {s['p50']:>8} | {s['p95']:>8} |")
    for key, s in result["data_only"].items():
        label = "data only: summary + 12 units + series, JSON (Superset: 131)" if key == "sum" else f"data only: {key}"
        print(f"| {label:<66} | {s['p50']:>8} | {s['p95']:>8} |")
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
