"""Benchmark of the forecasts: `python -m benchmarks.forecast` (or `make bench-forecast`).

- one region's forecast through the API, cold (made now) and warm (the memo of this data version): p50/p95 over the
  province and the 12 units, 20 warm calls each;
- the whole published backtest (the province and the 12 units, every origin, horizons 1-14), once, made afresh.
Prints a table; writes benchmarks/results/forecast.json.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def main() -> None:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tempfile.mkdtemp(prefix='bench-forecast-')}/bench.sqlite")
    from app import server  # noqa: PLC0415  (the store above is in force)
    from data import forecasts, queries  # noqa: PLC0415  (after the store above is set)

    queries.case_data()
    client = server.test_client()
    day = "2020-02-10"
    cold, warm = [], []
    for code in forecasts.backtest_regions():
        t = time.perf_counter()
        assert client.get(f"/api/v1/forecast?region={code}&date={day}").status_code == 200
        cold.append(_ms(t))
        for _ in range(20):
            t = time.perf_counter()
            client.get(f"/api/v1/forecast?region={code}&date={day}")
            warm.append(_ms(t))
    t = time.perf_counter()
    report = forecasts.report(forecasts.run_backtest())
    backtest_s = time.perf_counter() - t

    def q(values, p):
        return statistics.quantiles(values, n=100)[p - 1]

    result = {
        "forecast_cold_ms": {"p50": round(statistics.median(cold), 1), "p95": round(q(cold, 95), 1)},
        "forecast_warm_ms": {"p50": round(statistics.median(warm), 2), "p95": round(q(warm, 95), 2)},
        "backtest_seconds": round(backtest_s, 1),
        "backtest_origins": report["origins"],
        "backtest_regions": report["regions"],
        "cpus": os.cpu_count(),
    }
    print(
        f"forecast, one region (API):  cold p50 {result['forecast_cold_ms']['p50']} ms, "
        f"p95 {result['forecast_cold_ms']['p95']} ms;  warm p50 {result['forecast_warm_ms']['p50']} ms, "
        f"p95 {result['forecast_warm_ms']['p95']} ms"
    )
    print(
        f"backtest: {report['regions']} regions x {report['origins']} origins x 14 days in {backtest_s:.1f} s "
        f"({os.cpu_count()} cores)"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "forecast.json").write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
