"""The importation model checked against what happened (issue 19): each reporting unit's expected imported cases
from the flows (data/flow_queries.py) against its confirmed cases (data/queries.py), computed once per data
version. Flows and cases meet only here, so neither read side needs the other's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import func, select

from analytics import importation
from data import queries, store
from data.flow_queries import NO_FLOW_DATA, contributions_between, flow_data, has_inflow
from geo import regions
from geo.units import PROVINCE

# The importation check (issue 19): the first three weeks after 2020-01-20 against confirmed cases by 2020-02-15;
# the Jia et al. (Nature 2020) style variant: arrivals from Wuhan 1-24 January, not weighted by cases.
CHECK_START, CHECK_END = pd.Timestamp("2020-01-21"), pd.Timestamp("2020-02-10")
CHECK_OBSERVED_ON = pd.Timestamp("2020-02-15")
WUHAN, JIA_START, JIA_END = "420100", pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-24")
VARIANT_OUTSIDE = "仅省外来源（不计省内城市间流动）"
VARIANT_WUHAN = "武汉迁入量（Jia 等口径：1月1日至24日，迁入规模指数 × 武汉占比，不乘病例）"


@dataclass(frozen=True)
class ImportationCheck:
    """The importation model checked against what happened (``importation.METHOD`` says how)."""

    version: str
    units: pd.DataFrame  # index adcode; name, label, expected, days, observed, top_origins; most cases first
    stats: dict  # importation.check: rho, p, r2, r2_log, n, slope, intercept, slope_log, intercept_log
    window: tuple[date, date] | None  # the days that counted (first, last); None without data
    observed_on: date
    coverage: str  # what the national case series covers in the window, in Chinese
    variants: dict = field(default_factory=dict)  # label -> stats of an alternative expectation (sensitivity)
    method: str = importation.METHOD


def _national_coverage(eng) -> pd.Series:
    """Cities with a reported case count per as-of day (index date) in the national series."""
    n, b = store.national_cases, store.batches
    with eng.connect() as conn:
        rows = store.frame(
            conn,
            select(n.c.as_of_date, func.count(func.distinct(n.c.adcode)).label("cities"))
            .join(b, b.c.id == n.c.batch_id)
            .where(b.c.status == "active")
            .group_by(n.c.as_of_date),
        )
    if rows.empty:
        return pd.Series(dtype=int)
    return rows.assign(as_of_date=pd.to_datetime(rows["as_of_date"])).set_index("as_of_date")["cities"].sort_index()


def _coverage_text(cities: pd.Series, window) -> str:
    if cities.empty:
        return "库中无全国城市病例数据，无法估计来源地病例。"
    first = cities.index[0]
    text = f"全国城市病例序列始于{first.month}月{first.day}日（当日{int(cities.iloc[0])}个城市有病例通报）"
    if window is None:
        return text + "；检验窗口内无可用的输入风险估计。"
    for day in (pd.Timestamp(window[0]), pd.Timestamp(window[1])):
        known = cities[cities.index <= day]
        if len(known):
            text += f"；截至{day.month}月{day.day}日有{int(known.iloc[-1])}个城市有病例通报"
    if first > CHECK_START:
        before = first - pd.Timedelta(days=1)
        text += f"；{CHECK_START.month}月{CHECK_START.day}日至{before.month}月{before.day}日无来源地病例，不计入"
    return text + "。未通报的城市按 0 计。"


def _check(eng, version: str) -> ImportationCheck:
    """The importation risk checked against what happened: expected imported cases (relative) per reporting unit
    over 2020-01-21..02-10 against confirmed cases by 2020-02-15, with Spearman's rho and R²; 杨凌's and 韩城's
    cases are counted in 咸阳 and 渭南, whose Baidu flows include them."""
    data = flow_data(eng)
    units = [u for u in regions.units() if u.adcode not in NO_FLOW_DATA]
    merged = {host: [code for code, h in NO_FLOW_DATA.items() if h == host] for host in NO_FLOW_DATA.values()}

    def confirmed(code, part=False):
        found = queries.summary(code, CHECK_OBSERVED_ON, eng)
        if found["confirmed_cum"] is None:  # a merged part that never reported had no case; else unknown
            return 0.0 if part and found.get("status") == "no_data" else float("nan")
        return float(found["confirmed_cum"])

    observed = pd.Series(
        {u.adcode: confirmed(u.adcode) + sum(confirmed(c, True) for c in merged.get(u.adcode, [])) for u in units},
        dtype=float,
    )
    names = {
        u.adcode: u.name + "".join(f"（含{regions.get(c).name}）" for c in merged.get(u.adcode, [])) for u in units
    }
    labels = {
        u.adcode: u.short_name + "".join(f"（含{regions.get(c).short_name}）" for c in merged.get(u.adcode, []))
        for u in units
    }
    # the rows of the two windows only (every origin's part of every day is millions of rows at scale)
    contrib = contributions_between(min(CHECK_START, JIA_START), max(CHECK_END, JIA_END), eng).reset_index()
    contrib = contrib[contrib["focus_adcode"].isin(observed.index)]
    # flows of the units, if none in the windows: the statistics are made and say n = 0
    any_inflow = len(contrib) > 0 or has_inflow(eng, observed.index)
    scale_in = (
        data.scale.xs("in", level="direction")
        if len(data.scale)
        else pd.Series(dtype=float, index=pd.MultiIndex.from_tuples([], names=["adcode", "date"]))
    )
    if not any_inflow:
        expected = pd.DataFrame(columns=["expected", "days"], dtype=float)
    else:
        expected = importation.expected_imports(contrib, scale_in, CHECK_START, CHECK_END)
    frame = pd.DataFrame({"name": pd.Series(names), "label": pd.Series(labels)}).rename_axis("adcode")
    frame = frame.join(expected).join(observed.rename("observed"))
    frame["days"] = frame["days"].fillna(0).astype(int)
    frame["top_origins"] = _top_origins(contrib, scale_in, frame.index)
    frame = frame.sort_values(["observed", "expected"], ascending=False, na_position="last")
    counted = contrib[
        (contrib["date"] >= CHECK_START) & (contrib["date"] <= CHECK_END) & contrib["contribution"].notna()
    ]["date"]
    window = (counted.min().date(), counted.max().date()) if len(counted) else None
    variants = {}
    if any_inflow:
        outside = contrib[~contrib["counterpart_adcode"].str.startswith(PROVINCE[:2])]
        variants[VARIANT_OUTSIDE] = importation.check(
            importation.expected_imports(outside, scale_in, CHECK_START, CHECK_END)["expected"], observed
        )
        wuhan = contrib[contrib["counterpart_adcode"] == WUHAN].assign(contribution=lambda f: f["share_pct"] / 100)
        volume = importation.expected_imports(wuhan, scale_in, JIA_START, JIA_END)["expected"]
        variants[VARIANT_WUHAN] = importation.check(volume.reindex(observed.index, fill_value=0.0), observed)
    return ImportationCheck(
        version,
        frame,
        importation.check(frame["expected"], frame["observed"]),
        window,
        CHECK_OBSERVED_ON.date(),
        _coverage_text(_national_coverage(eng), window),
        variants,
    )


def _top_origins(contrib: pd.DataFrame, scale_in: pd.Series, units: pd.Index, n: int = 3) -> pd.Series:
    """The origins that make most of each unit's expected imports over the window, e.g. 十堰市 57%、襄阳市 12%."""
    rows = contrib[(contrib["date"] >= CHECK_START) & (contrib["date"] <= CHECK_END)]
    if rows.empty:
        return pd.Series("", index=units)
    weight = scale_in.reindex(pd.MultiIndex.from_arrays([rows["focus_adcode"], rows["date"]])).to_numpy()
    part = rows.assign(part=rows["contribution"] * weight).groupby(["focus_adcode", "counterpart_name"])["part"].sum()
    out = {}
    for unit in units:
        if unit not in part.index.get_level_values(0):
            out[unit] = ""
            continue
        shares = part.loc[unit].sort_values(ascending=False)
        total = shares.sum()
        out[unit] = "、".join(f"{name} {value / total:.0%}" for name, value in shares.head(n).items()) if total else ""
    return pd.Series(out).reindex(units)


result = store.per_version(_check)  # the check of the store's current data version
