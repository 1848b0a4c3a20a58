"""Case arithmetic on tidy frames: daily new from cumulative counts, corrections, gaps, 7-day sums, rates.

Pure functions: frames in, frames out; no store, no cache, no plotting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COUNTS = ("confirmed", "cured", "dead")


def daily_from_cumulative(reports: pd.DataFrame, start, end, source_days=None) -> pd.DataFrame:
    """One row a day from ``start`` to ``end`` for one region, from its reported cumulative counts.

    ``reports`` has ``as_of_date`` and ``confirmed_cum``/``cured_cum``/``dead_cum`` (one row a reported day).

    Rules, each visible in the result so nothing is passed on silently:
    - Before a region's first report its counts are 0 (the 2020 files list a unit once it has a case);
      ``status`` is ``before_first``. With ``source_days`` (the days its source listed any region of its level),
      a day the source listed none is ``missing`` instead: it says nothing of this region (2020-01-25 has only the
      province's row, so 铜川 on that day is unknown, not 0).
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
    if source_days is not None and first is not None:
        before &= days.isin(pd.DatetimeIndex(source_days)) | (days < pd.DatetimeIndex(source_days).min())
    out.loc[before, cum_cols] = 0.0
    reported = out[cum_cols[0]].notna() & ~before
    out["status"] = np.where(before, "before_first", np.where(reported, "reported", "missing"))

    known = out[cum_cols].ffill()  # the last known value, to measure the next report's increase against
    for c in COUNTS:
        diff = out[f"{c}_cum"] - known[f"{c}_cum"].shift(1).fillna(0.0)
        out[f"new_{c}"] = diff.clip(lower=0)
        out[f"correction_{c}"] = diff.clip(upper=0).fillna(0.0)
    last_known_day = pd.Series(np.where(out[cum_cols[0]].notna(), np.arange(len(days)), np.nan), index=days)
    out["span_days"] = (
        (np.arange(len(days)) - last_known_day.ffill().shift(1).fillna(-1))
        .where(out[cum_cols[0]].notna())
        .astype("float64")
    )
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


def compose_total(
    own: pd.DataFrame, units: list[pd.DataFrame], extras: list[pd.DataFrame], use_own_before
) -> tuple[pd.DataFrame, pd.Series]:
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


# Figures of a region on a day come from one of these (the API's ``basis``); see queries._build.
BASIS = {
    "own_row": "本级通报数",
    "case_list": "病例个案汇总",
    "sum_of_parts": "下级合计",
    "sum_of_units": "各市（区）、境外输入与未公布来源之和（省级行自3月起疑差一日）",
    "missing": "未上报",
}
FIGURES = ("reported", "before_first")  # statuses with a number (before_first: 0 before the first report)


def events_daily(counts: pd.Series, days: pd.DatetimeIndex, since) -> pd.DataFrame:
    """A region's daily figures from case-list events (cases per report day): 0 new on a day without a case and the
    cumulative carried, from ``since`` (the first day case lists cover) on; ``no_data`` before it. The cumulative
    counts from ``since`` (``cum_from``), not from any earlier wave."""
    covered = days >= pd.Timestamp(since)
    new = counts.reindex(days, fill_value=0).astype("float64").where(covered)
    out = pd.DataFrame(index=days)
    out["new_confirmed"] = new
    out["confirmed_cum"] = new.fillna(0).cumsum().where(covered)
    for c in ("cured", "dead"):
        out[f"{c}_cum"] = np.nan
        out[f"new_{c}"] = np.nan
    for c in COUNTS:
        out[f"correction_{c}"] = np.where(covered, 0.0, np.nan)
    out["status"] = np.where(covered, "reported", "no_data")
    out["span_days"] = np.where(covered, 1.0, np.nan)
    out["basis"] = np.where(covered, "case_list", "missing")
    out["cum_from"] = pd.Series(pd.Timestamp(since), index=days).where(covered)
    return out


def prefer(*frames: pd.DataFrame) -> pd.DataFrame:
    """Day by day, the first frame with a reported figure, else the first with a 0 before its first report, else
    the first that says the day is missing, else the first frame's row. Each row keeps its own new counts: they are
    never re-derived across sources, so a switch from one source to another is not a jump."""
    frames = [f for f in frames if f is not None]
    if not frames:
        return None
    columns = list(dict.fromkeys(c for f in frames for c in f.columns))
    frames = [f.reindex(columns=columns) for f in frames]
    rank = {"reported": 0, "before_first": 1, "missing": 2}
    out = frames[0].copy()
    best = out["status"].map(rank).fillna(3)
    for f in frames[1:]:
        r = f["status"].map(rank).fillna(3)
        take = r < best
        for c in columns:
            out[c] = out[c].where(~take, f[c])
        best = best.where(~take, r)
    return out


def sum_of_parts(parts: list[pd.DataFrame], days: pd.DatetimeIndex) -> pd.DataFrame | None:
    """A region's figures as the sum of its parts (counties, zones, cases placed at it but no lower), on the days at
    least one part reported. A part without a figure that day adds no new cases and its last cumulative of the
    same stretch of reporting (a catch-up report brings its cases later); a stretch that starts after a gap counts
    afresh. ``basis``: case_list when every part is a case list, else
    sum_of_parts. None without parts."""
    if not parts:
        return None
    status = pd.concat([p["status"] for p in parts], axis=1)
    reported = (status == "reported").any(axis=1)
    before = (status == "before_first").all(axis=1)
    active = reported | before
    stretch = (~active).cumsum()  # a new stretch of reporting starts after every day without a figure
    out = pd.DataFrame(index=days)
    for c in COUNTS:
        cum = (
            pd.concat([p[f"{c}_cum"].where(p["status"].isin(FIGURES)) for p in parts], axis=1, ignore_index=True)
            .groupby(stretch)
            .ffill()
        )
        out[f"{c}_cum"] = cum.sum(axis=1, min_count=1).where(active)
        new = pd.concat([p[f"new_{c}"].where(p["status"] == "reported") for p in parts], axis=1)
        out[f"new_{c}"] = new.sum(axis=1, min_count=1 if c != "confirmed" else 0).where(active)
        out[f"correction_{c}"] = (
            pd.concat([p[f"correction_{c}"].where(p["status"] == "reported") for p in parts], axis=1)
            .sum(axis=1)
            .where(active, 0.0)
        )
    out["status"] = np.where(
        reported,
        "reported",
        np.where(before, "before_first", np.where((status == "missing").any(axis=1), "missing", "no_data")),
    )
    out["span_days"] = np.where(reported, 1.0, np.nan)
    out["parts_missing"] = (status == "missing").sum(axis=1).where(active)  # said with the figure (a lower bound)
    from_list = pd.concat([p["basis"].eq("case_list") | ~p["status"].eq("reported") for p in parts], axis=1).all(axis=1)
    out["basis"] = np.where(active, np.where(from_list, "case_list", "sum_of_parts"), "missing")
    # a cumulative of case-list parts counts from the first day case lists cover
    out["cum_from"] = (
        pd.concat([p["cum_from"] if "cum_from" in p else pd.Series(pd.NaT, index=days) for p in parts], axis=1)
        .max(axis=1)
        .where(active)
    )
    return out


def finish(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns that follow from the counts, once a region's rows are chosen: active cases and 7-day sums."""
    out = frame.copy()
    # one dtype in every region's frame: a column of datetimes in some and objects in others costs the final concat
    # a conversion of every value (over a second at a few years of days)
    out["cum_from"] = (
        pd.to_datetime(out["cum_from"]) if "cum_from" in out else pd.Series(pd.NaT, index=out.index)
    ).astype("datetime64[ns]")
    out["active"] = out["confirmed_cum"] - out["cured_cum"] - out["dead_cum"]
    out["new_7d"] = out["new_confirmed"].fillna(0).rolling(7, min_periods=1).sum().where(out["status"].isin(FIGURES))
    out["new_7d_avg"] = out["new_7d"] / 7
    out.index.name = "date"
    return out
