"""Importation risk carried by population flows.

For a destination d on day t:

    risk(d, t) = sum over origins o of  share(o -> d, t) / 100  x  active_per_100k(o, t)

share(o -> d, t): the % of d's move-in on day t that came from o (Baidu Migration, top 100 origins);
active_per_100k(o, t): the origin's active cases (confirmed - cured - dead, cumulative to 24:00 of t) per 100,000
residents. The result reads as "active cases per 100,000 in the places today's arrivals came from", a weighted
average over the listed origins. Origins without a reported case count 0; before the national series starts there
is no estimate. Caveats: shares, not head counts (multiply by the scale index for relative volume); city-level
cured counts before 2020-02-07 are incomplete, so early active counts are overstated.
"""
from __future__ import annotations

import pandas as pd

FORMULA = "输入风险指数 = Σ 来源地（迁入占比% ÷ 100 × 来源地每10万人现有确诊）"


def origin_incidence(cases: pd.DataFrame, population: pd.Series, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Active cases per 100,000 for every origin and day (index date, columns adcode).

    ``cases``: as_of_date, adcode, confirmed_cum, cured_cum, dead_cum (one row per reported city and day).
    Between reports the last value holds; before a city's first report it has 0 active cases.
    """
    active = (cases.assign(active=cases.confirmed_cum - cases.cured_cum - cases.dead_cum,
                           as_of_date=pd.to_datetime(cases.as_of_date))
              .pivot_table(index="as_of_date", columns="adcode", values="active", aggfunc="last"))
    first = active.index.min()
    active = active.reindex(days).ffill().fillna(0.0)
    active.loc[active.index < first] = float("nan")  # no national series yet: no estimate, not zero
    pop = population.reindex(active.columns)
    return active.div(pop, axis=1) * 100_000


def contributions(inflow: pd.DataFrame, incidence: pd.DataFrame) -> pd.DataFrame:
    """Each origin's part of the risk: inflow rows (date, focus_adcode, counterpart_adcode, share_pct) with
    ``origin_active_per_100k`` and ``contribution`` added."""
    long = incidence.stack(future_stack=True).rename("origin_active_per_100k").reset_index()
    long.columns = ["date", "counterpart_adcode", "origin_active_per_100k"]
    out = inflow.merge(long, on=["date", "counterpart_adcode"], how="left")
    started = out["date"] >= incidence.index[incidence.notna().any(axis=1)].min()
    out["origin_active_per_100k"] = out["origin_active_per_100k"].fillna(0.0).where(started)  # never reported: 0
    out["contribution"] = out["share_pct"] / 100 * out["origin_active_per_100k"]
    return out


def risk(contrib: pd.DataFrame) -> pd.Series:
    """Risk per (focus_adcode, date): the sum of contributions; NaN where no origin had an incidence figure."""
    return contrib.groupby(["focus_adcode", "date"])["contribution"].sum(min_count=1)
