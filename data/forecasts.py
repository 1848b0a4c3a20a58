"""Forecasts and their published backtest, read from the store (the models are in analytics/forecast.py).

A region's forecast from a day is memoised per data version in the shared cache; the backtest over every
reporting unit and the province is built once per data version in each process that asks for it (the 模型评估
page, ``flask backtest``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile

import pandas as pd

from analytics import forecast as model
from analytics.assess import spread_catch_ups
from data import cache, queries, store
from geo import regions
from geo.units import PROVINCE

BACKTEST_START = dt.date(2020, 1, 29)  # a week after the first reports: the first origin with a week behind it


def series(adcode: str, eng=None) -> tuple[pd.Series, pd.Series | None] | None:
    """The daily counts the models read for a region (catch-ups spread over the days they cover, as for Rt) and
    its imported part where known (the province's 境外输入); None when the region never had a figure."""
    daily = queries.region_series(adcode, eng)
    if daily is None:
        return None
    counts = spread_catch_ups(daily["new_confirmed"], daily["span_days"])
    imported = queries.case_data(eng).imported
    known = adcode == PROVINCE and len(imported) and "new_confirmed" in imported
    return counts, imported["new_confirmed"] if known else None


def origin_series(adcode: str, day, eng=None) -> tuple[pd.Series, pd.Series | None] | None:
    """``series`` cut at the origin day: what a forecast made on ``day`` may read (None: no data by then)."""
    found = series(adcode, eng)
    if found is None:
        return None
    counts, imported = found
    counts = counts.loc[: pd.Timestamp(day)]
    if counts.empty:
        return None
    return counts, None if imported is None else imported.loc[: pd.Timestamp(day)]


@cache.memoize
def forecast(adcode: str, day, horizon: int = model.HORIZON, eng=None) -> dict[str, pd.DataFrame] | None:
    """Every model's forecast for the ``horizon`` days after ``day`` (model -> frame of FIELDS by date)."""
    found = origin_series(adcode, day, eng)
    if found is None:
        return None
    counts, imported = found
    return model.forecast(counts, horizon, imported)


def rows(adcode: str, day, horizon: int = model.HORIZON, which: str = "ensemble", eng=None) -> list[dict]:
    """One model's forecast as API rows: [{date, median, lower_50, upper_50, lower_90, upper_90}]."""
    made = forecast(adcode, pd.Timestamp(day).date().isoformat(), horizon, eng)
    if made is None:
        return []
    frame = made[which]
    return [{"date": d.date().isoformat(), **{f: int(frame.at[d, f]) for f in model.API_FIELDS}} for d in frame.index]


def backtest_regions() -> list[str]:
    return regions.province_and_units()


def run_backtest(codes: list[str] | None = None, start=None, end=None, eng=None) -> pd.DataFrame:
    """The rolling-origin backtest: every origin day from ``start`` (default 2020-01-29) to ``end`` (default the
    last day with 14 days after it), every region of ``codes`` (default the province and the 12 units)."""
    data = queries.case_data(eng)
    start = pd.Timestamp(start or BACKTEST_START)
    end = pd.Timestamp(end or data.end)
    counts, imported = {}, {}
    for code in codes or backtest_regions():
        found = series(code, eng)
        if found is not None:
            counts[code], imported[code] = found
    return model.backtest(counts, pd.date_range(start, end, freq="D"), model.HORIZON, imported)


# The published backtest takes ~11 s of one core: it is made once per data version and kept as a file that every
# process (web workers, the page's background job, `flask backtest`) reads, and that a restart keeps.


def _result_path(eng) -> os.PathLike:
    eng = eng or store.engine()
    where = hashlib.sha1(str(eng.url).encode()).hexdigest()[:10]
    return store.instance_path() / "models" / f"backtest-{where}-{store.data_version(eng)}.json"


def published(eng=None) -> dict | None:
    """The backtest report of the store's current data, if it was made already."""
    path = _result_path(eng)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def evaluation(eng=None) -> dict:
    """The published backtest report of the current data: read, or made and kept (atomically) when missing."""
    found = published(eng)
    if found is not None:
        return found
    path = _result_path(eng)
    result = report(run_backtest(eng=eng))
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as tmp:
        json.dump(result, tmp, ensure_ascii=False)
    os.replace(tmp.name, path)
    return result


def report(scores: pd.DataFrame) -> dict:
    """The backtest as published: by model and horizon (all regions; the province alone), by model overall, and
    the sentence that says whether each model beat the baseline at 7 days."""
    if scores.empty:
        return {
            "by_horizon": [],
            "province_by_horizon": [],
            "overall": [],
            "verdicts": [],
            "origins": 0,
            "regions": 0,
            "first_origin": None,
            "last_origin": None,
            "method": model.METHOD,
        }
    province = scores[scores.region == PROVINCE]
    by_horizon = model.summarise(scores)
    province_by_horizon = model.summarise(province) if len(province) else by_horizon.iloc[:0]
    return {
        "by_horizon": _records(by_horizon),
        "province_by_horizon": _records(province_by_horizon),
        "overall": _records(model.summarise(scores, by=("model",))),
        "verdicts": verdicts(province_by_horizon if len(province) else by_horizon),
        "origins": int(scores.origin.nunique()),
        "regions": int(scores.region.nunique()),
        "method": model.METHOD,
        "first_origin": scores.origin.min().date().isoformat(),
        "last_origin": scores.origin.max().date().isoformat(),
    }


def verdicts(table: pd.DataFrame, horizon: int = 7) -> list[str]:
    """Plain sentences: each model against the baseline and its 90 % coverage at ``horizon`` days."""
    out = []
    at = table[table.horizon == horizon].set_index("model")
    for name in ("ensemble", "renewal"):
        if name not in at.index:
            continue
        row = at.loc[name]
        better = row.relative_wis < 1
        out.append(
            f"{model.MODEL_NAMES[name]}：{horizon}天预测的相对WIS {row.relative_wis:.2f}，"
            + ("优于基线" if better else "不如基线（基线更可靠，请优先参考基线）")
            + f"；90%区间实际覆盖 {row.coverage_90:.0%}"
            + ("" if 0.8 <= row.coverage_90 <= 0.95 else "（偏离80–95%，区间需谨慎解读）")
            + "。"
        )
    return out


def _records(table: pd.DataFrame) -> list[dict]:
    return [
        {
            k: (round(float(v), 4) if isinstance(v, float) else v.item() if hasattr(v, "item") else v)
            for k, v in row.items()
        }
        for row in table.to_dict("records")
    ]
