"""Case arithmetic on tidy frames: daily new from cumulative counts, corrections, gaps, 7-day sums, rates.

Pure functions: frames in, frames out; no store, no cache, no plotting.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

COUNTS = ("confirmed", "cured", "dead")


def daily_from_cumulative(reports: pd.DataFrame, start, end) -> pd.DataFrame:
    """One row a day from ``start`` to ``end`` for one region, from its reported cumulative counts.

    ``reports`` has ``as_of_date`` and ``confirmed_cum``/``cured_cum``/``dead_cum`` (one row a reported day).

    Rules, each visible in the result so nothing is passed on silently:
    - Before a region's first report its counts are 0 (the 2020 files list a unit once it has a case);
      ``status`` is ``before_first``.
    - A day without a report after the first one is a gap: counts are NaN and ``status`` is ``missing``
      (shown as 未上报, never as 0). The next report's increase covers the gap; ``span_days`` says how many days.
    - new = cumulative - previous reported cumulative. A decrease is a correction (订正): ``new_*`` is 0 that day
      and the decrease goes to ``correction_*`` (<= 0), so that sum(new) + sum(correction) = last cumulative.
    - active = confirmed - cured - dead.
    - new_7d: new confirmed in the 7 days ending that day (corrections excluded; they are shown on their own);
      NaN on an unreported day.
    """
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
    cum_cols = [f"{c}_cum" for c in COUNTS]
    rep = reports.assign(as_of_date=pd.to_datetime(reports["as_of_date"])).set_index("as_of_date")[cum_cols]
    rep = rep[~rep.index.duplicated(keep="last")].sort_index()
    out = rep.reindex(days).astype("float64")
    first = rep.index.min() if len(rep) else None
    before = days < first if first is not None else np.ones(len(days), bool)
    out.loc[before, cum_cols] = 0.0
    reported = out[cum_cols[0]].notna() & ~before
    out["status"] = np.where(before, "before_first", np.where(reported, "reported", "missing"))

    known = out[cum_cols].ffill()  # the last known value, to measure the next report's increase against
    for c in COUNTS:
        diff = out[f"{c}_cum"] - known[f"{c}_cum"].shift(1).fillna(0.0)
        out[f"new_{c}"] = diff.clip(lower=0)
        out[f"correction_{c}"] = diff.clip(upper=0).fillna(0.0)
    last_known_day = pd.Series(np.where(out[cum_cols[0]].notna(), np.arange(len(days)), np.nan), index=days)
    out["span_days"] = (np.arange(len(days)) - last_known_day.ffill().shift(1).fillna(-1)).where(
        out[cum_cols[0]].notna()).astype("float64")
    out["active"] = out["confirmed_cum"] - out["cured_cum"] - out["dead_cum"]
    # A 7-day sum over a window with an unreported day is still a sum of what was reported (the gap's cases
    # arrive with the next report); on the unreported day itself there is no figure.
    out["new_7d"] = out["new_confirmed"].fillna(0).rolling(7, min_periods=1).sum().where(out["status"] != "missing")
    out["new_7d_avg"] = out["new_7d"] / 7
    out.index.name = "date"
    return out


def per_100k(values: pd.Series | float, population: pd.Series | float):
    """Rate per 100,000 residents (2020 census population)."""
    return values / population * 100_000


def compose_total(own: pd.DataFrame, units: list[pd.DataFrame], extras: list[pd.DataFrame],
                  use_own_before) -> tuple[pd.DataFrame, pd.Series]:
    """A region's cumulative counts, from its own reported row or from the sum of its parts, day by day.

    Used for the province: its own row is the official total, but from March 2020 the shipped file's province
    row is probably one day off (its SOURCES), so from ``use_own_before`` on the sum of the units plus the extra
    categories (境外输入, 未公布来源) is used. Units must all have reported that day for the sum to count; on a
    day with a unit missing the own row is used where it exists. Extra categories are listed only on some days,
    so their last value carries forward. Returns the cumulative frame and the basis per day
    (``own_row`` | ``sum_of_units`` | ``missing``).
    """
    cum_cols = [f"{c}_cum" for c in COUNTS]
    total = sum(u[cum_cols] for u in units) + sum(e[cum_cols].ffill().fillna(0) for e in extras)
    complete = pd.concat([u["status"] != "missing" for u in units], axis=1).all(axis=1)
    own_known = own["status"] == "reported"
    use_own = own_known & ((own.index < pd.Timestamp(use_own_before)) | ~complete)
    result = total.where(~use_own, own[cum_cols])
    basis = pd.Series(np.where(use_own, "own_row", np.where(complete, "sum_of_units", "missing")), index=own.index)
    result = result.where(basis != "missing")
    return result, basis
