"""Read side of population flows: rankings, the origin-destination matrix, the scale index and importation risk,
computed once per data version (like data/queries.py) and sliced per request."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select

from analytics import importation
from data import cache, store
from geo import china, regions
from geo.units import PROVINCE

# 杨凌 and 韩城 have no units of their own in Baidu Migration: their flows are inside 咸阳's and 渭南's.
NO_FLOW_DATA = {"610403": "610400", "610581": "610500"}


@dataclass(frozen=True)
class FlowData:
    version: str
    flows: pd.DataFrame  # index (focus_adcode, direction, date); counterpart_adcode/name/level, share_pct
    scale: pd.DataFrame  # index (adcode, direction, date) -> scale_index
    contributions: pd.DataFrame  # index (focus_adcode, date): inflow rows with origin incidence and contribution
    risk: pd.Series  # (focus_adcode, date) -> importation risk
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    sources: tuple[str, ...]


def _build(eng, version: str) -> FlowData:
    f, m, n, b = store.flows, store.migration_index, store.national_cases, store.batches
    active = b.c.status == "active"
    with eng.connect() as conn:
        flows = store.frame(
            conn,
            select(
                f.c.date,
                f.c.direction,
                f.c.focus_adcode,
                f.c.counterpart_adcode,
                f.c.counterpart_name,
                f.c.counterpart_level,
                f.c.share_pct,
                f.c.batch_id,
            )
            .join(b, b.c.id == f.c.batch_id)
            .where(active),
        )
        scale = store.frame(
            conn,
            select(m.c.date, m.c.adcode, m.c.direction, m.c.scale_index, m.c.batch_id)
            .join(b, b.c.id == m.c.batch_id)
            .where(active),
        )
        cases = store.frame(
            conn,
            select(n.c.as_of_date, n.c.adcode, n.c.confirmed_cum, n.c.cured_cum, n.c.dead_cum)
            .join(b, b.c.id == n.c.batch_id)
            .where(active),
        )
        sources = tuple(
            s
            for (s, _) in conn.execute(
                select(b.c.source, func.min(b.c.id))
                .where(active, b.c.kind.in_(["flows", "migration-index", "national-cases"]))
                .group_by(b.c.source)
                .order_by(func.min(b.c.id))
            )
            if s
        )  # first stored first, on every backend
    if flows.empty:
        empty = pd.DataFrame(columns=["date", "focus_adcode", "counterpart_adcode", "share_pct", "contribution"])
        return FlowData(version, flows, scale, empty, pd.Series(dtype=float), None, None, sources)
    # a later batch revises an earlier one for the same focus, day, direction and counterpart
    flows = (
        flows.sort_values("batch_id")
        .drop_duplicates(["date", "direction", "focus_adcode", "counterpart_adcode", "counterpart_level"], keep="last")
        .drop(columns="batch_id")
    )
    flows["date"] = pd.to_datetime(flows["date"])
    scale = scale.sort_values("batch_id").drop_duplicates(["date", "adcode", "direction"], keep="last")
    scale = scale.assign(date=pd.to_datetime(scale["date"])).set_index(["adcode", "direction", "date"])["scale_index"]
    days = pd.date_range(flows["date"].min(), flows["date"].max(), freq="D")
    population = pd.Series(
        {p.adcode: p.population for (_, level), p in china.places().items() if level == "city" and p.population}
    )
    inflow = flows[(flows.direction == "in") & (flows.counterpart_level == "city")]
    if len(cases):
        incidence = importation.origin_incidence(cases, population, days)
        contrib = importation.contributions(
            inflow[["date", "focus_adcode", "counterpart_adcode", "counterpart_name", "share_pct"]], incidence
        )
        risk = importation.risk(contrib)
    else:
        contrib, risk = inflow.assign(contribution=float("nan")), pd.Series(dtype=float)
    indexed = flows.set_index(["focus_adcode", "direction", "date"]).sort_index()  # a day's rows by one lookup
    contrib = contrib.sort_values("contribution", ascending=False).set_index(["focus_adcode", "date"]).sort_index()
    return FlowData(version, indexed, scale.sort_index(), contrib, risk, days[0], days[-1], sources)


flow_data = store.per_version(_build)


def _rows(focus: str, direction: str, day) -> pd.DataFrame:
    flows = flow_data().flows
    key = (focus, direction, pd.Timestamp(day))
    return (flows.loc[key] if key in flows.index else flows.iloc[:0]).reset_index(drop=True)


def focus_for(adcode: str) -> tuple[str | None, str]:
    """The flow focus for a selected region, and a note when it differs from the region or has none."""
    region = regions.get(adcode)
    if region is None:
        return None, ""
    if region.level == "province":
        return PROVINCE, ""
    unit = regions.unit_of(adcode)
    if unit.adcode in NO_FLOW_DATA:
        host = regions.get(NO_FLOW_DATA[unit.adcode]).name
        return None, f"百度迁徙不单列{unit.name}，其流动含在{host}中"
    note = f"县（区）无迁徙数据，显示{unit.name}" if region.level == "county" else ""
    return unit.adcode, note


def scale_index(focus: str, direction: str, day) -> float | None:
    data = flow_data()
    try:
        value = data.scale.loc[(focus, direction, pd.Timestamp(day))]
    except KeyError:
        return None
    return float(value)


@cache.memoize
def ranking(focus: str, day, direction: str = "in", level: str = "city", scope: str = "national") -> pd.DataFrame:
    """Counterparts of a focus region on a day, largest share first, with relative volume (share x scale index)
    and the change against 7 days before. ``level`` province aggregates city shares by province where the source
    has no province ranking for this focus. ``scope`` province keeps Shaanxi counterparts only."""
    day = pd.Timestamp(day)

    def on(d):
        rows = _rows(focus, direction, d)
        if level == "province":
            direct = rows[rows.counterpart_level == "province"]
            if len(direct):
                return direct.assign(aggregated=False)
            cities = rows[rows.counterpart_level == "city"].copy()
            cities["province"] = [
                china.get(c, "city").province_adcode if china.get(c, "city") else None
                for c in cities.counterpart_adcode
            ]
            agg = cities.groupby("province", as_index=False)["share_pct"].sum()
            agg["counterpart_adcode"] = agg["province"]
            agg["counterpart_name"] = [china.get(p, "province").name for p in agg["province"]]
            return agg.assign(aggregated=True)
        return rows[rows.counterpart_level == "city"].assign(aggregated=False)

    now, before = on(day), on(day - pd.Timedelta(days=7))
    if scope == "province":
        now = now[now.counterpart_adcode.str.startswith("61")]
        before = before[before.counterpart_adcode.str.startswith("61")]
    index_now = scale_index(focus, direction, day)
    index_before = scale_index(focus, direction, day - pd.Timedelta(days=7))
    out = now[["counterpart_adcode", "counterpart_name", "share_pct", "aggregated"]].copy()
    out["volume"] = out["share_pct"] / 100 * index_now if index_now is not None else float("nan")
    prev = before.set_index("counterpart_adcode")["share_pct"]
    out["share_change_7d"] = out["share_pct"] - out["counterpart_adcode"].map(prev)
    if index_before is not None:
        out["volume_change_7d"] = out["volume"] - out["counterpart_adcode"].map(prev) / 100 * index_before
    else:
        out["volume_change_7d"] = float("nan")
    out["province"] = [
        (china.get(c, "city") or china.get(c, "province")).province_name
        if (china.get(c, "city") or china.get(c, "province"))
        else ""
        for c in out.counterpart_adcode
    ]
    return out.sort_values("share_pct", ascending=False).reset_index(drop=True)


@cache.memoize
def od_matrix(day, direction: str = "in") -> pd.DataFrame:
    """Shares between Shaanxi's 10 Baidu cities on a day: rows destination, columns origin, value = % of the
    destination's move-in from that origin (for ``in``)."""
    cities = sorted(c for c in {r.adcode for r in regions.units()} if c not in NO_FLOW_DATA)
    rows = pd.concat([_rows(c, direction, day).assign(focus_adcode=c) for c in cities])
    rows = rows[rows.counterpart_adcode.isin(cities)]
    if rows.empty:
        return pd.DataFrame(index=cities, columns=cities, dtype=float)
    return rows.pivot_table(
        index="focus_adcode", columns="counterpart_adcode", values="share_pct", aggfunc="last"
    ).reindex(index=cities, columns=cities)


def scale_series(focus: str) -> pd.DataFrame:
    """Scale index over time for a focus: columns in, out (index date)."""
    data = flow_data()
    if focus not in data.scale.index.get_level_values(0):
        return pd.DataFrame(columns=["in", "out"])
    return data.scale.loc[focus].unstack(level=0)


def risk_on_day(day) -> pd.Series:
    """Importation risk of every Shaanxi unit (and the province) on a day, index adcode; NaN where unknown."""
    data = flow_data()
    day = pd.Timestamp(day)
    if not len(data.risk):
        return pd.Series(dtype=float)
    on = data.risk.xs(day, level="date") if day in data.risk.index.get_level_values(1) else pd.Series(dtype=float)
    return on


def risk_series(focus: str) -> pd.Series:
    data = flow_data()
    if focus not in data.risk.index.get_level_values(0):
        return pd.Series(dtype=float)
    return data.risk.loc[focus]


@cache.memoize
def top_contributors(focus: str, day, n: int = 5) -> pd.DataFrame:
    """The origins that add most to a region's importation risk on a day, largest first."""
    contributions = flow_data().contributions
    key = (focus, pd.Timestamp(day))
    if key not in contributions.index:
        return contributions.iloc[:0].reset_index()
    return contributions.loc[[key]].reset_index().sort_values("contribution", ascending=False).head(n)
