"""Read side of population flows: rankings, the origin-destination matrix, the scale index and importation risk.

The flow rows stay in the store (5 million at scale; ``ix_flows_focus_date`` finds a region's day): a ranking, the
matrix or a day's importation risk reads the rows it needs, a few hundred, and small results are memoised per data
version (``store.per_version``, ``cache.memoize``). What is kept per data version is small: the scale index, the days
the flows cover, and the origins' active cases per 100,000 (days x prefecture cities) that importation risk weighs
the shares with. A later batch revises an earlier one for the same focus, day, direction and counterpart, here as
when every row was read (the batch is read with each row and the latest kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from analytics import importation
from data import cache, store
from geo import china, regions
from geo.units import PROVINCE

# 杨凌 and 韩城 have no units of their own in Baidu Migration: their flows are inside 咸阳's and 渭南's.
NO_FLOW_DATA = {"610403": "610400", "610581": "610500"}
FLOW_COLUMNS = ["counterpart_adcode", "counterpart_name", "counterpart_level", "share_pct"]  # of a (focus, way, day)
KEY = ["date", "direction", "focus_adcode", "counterpart_adcode", "counterpart_level"]  # a later batch revises


@dataclass(frozen=True)
class FlowData:
    """What is kept of the flows per data version: small. The rows themselves are read per request; ``flows``,
    ``contributions`` and ``risk`` give all of them at once, for checks and tests, never for a page."""

    version: str
    scale: pd.DataFrame  # index (adcode, direction, date) -> scale_index
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    sources: tuple[str, ...]
    incidence: pd.DataFrame | None = field(default=None, repr=False)  # index date, columns origin adcode
    eng: Engine | None = field(default=None, repr=False, compare=False)

    @property
    def flows(self) -> pd.DataFrame:
        """Every flow row (index focus_adcode, direction, date): reads the whole table."""
        return _all_flows(self.eng)

    @property
    def contributions(self) -> pd.DataFrame:
        """Every inflow row with its origin's incidence and contribution (index focus_adcode, date)."""
        return contributions_between(None, None, self.eng)

    @property
    def risk(self) -> pd.Series:
        """Importation risk of every focus and day, (focus_adcode, date) -> risk: read focus by focus, memoised."""
        return _risk_all(self.eng)


def _focus_codes() -> list[str]:
    """Every region a flow row can be of (the province, its units and counties): the index's first column, so a
    day's rows of all of them are found without reading the table."""
    return [regions.province().adcode, *(r.adcode for r in regions.units()), *(r.adcode for r in regions.counties())]


def _active_flows():
    f, b = store.flows, store.batches
    return f, b, select().select_from(f.join(b, b.c.id == f.c.batch_id)).where(b.c.status == "active")


def _latest(rows: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """The latest batch's row of each key; rows in the order they were stored."""
    if rows.empty:
        return rows.drop(columns=["batch_id", "id"])
    rows = rows.sort_values(["batch_id", "id"], kind="stable").drop_duplicates(key, keep="last")
    return rows.sort_values("id", kind="stable").drop(columns=["batch_id", "id"]).reset_index(drop=True)


def _day(value) -> date:
    return pd.Timestamp(value).date()


def _build(eng, version: str) -> FlowData:
    f, m, n, b = store.flows, store.migration_index, store.national_cases, store.batches
    active = b.c.status == "active"
    with eng.connect() as conn:
        start = end = None
        flow_batches = [
            i
            for (i,) in conn.execute(
                select(b.c.id).where(active, select(f.c.id).where(f.c.batch_id == b.c.id).exists())
            )
        ]
        for batch in flow_batches:  # each an index lookup (ix_flows_batch_date), not a pass over the table
            first = conn.execute(select(func.min(f.c.date)).where(f.c.batch_id == batch)).scalar()
            last = conn.execute(select(func.max(f.c.date)).where(f.c.batch_id == batch)).scalar()
            if first is not None:
                start = first if start is None else min(start, first)
                end = last if end is None else max(end, last)
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
    if start is None:
        return FlowData(version, scale, None, None, sources, None, eng)
    scale = scale.sort_values("batch_id").drop_duplicates(["date", "adcode", "direction"], keep="last")
    scale = scale.assign(date=pd.to_datetime(scale["date"])).set_index(["adcode", "direction", "date"])["scale_index"]
    days = pd.date_range(start, end, freq="D")
    population = pd.Series(
        {p.adcode: p.population for (_, level), p in china.places().items() if level == "city" and p.population}
    )
    incidence = importation.origin_incidence(cases, population, days) if len(cases) else None
    return FlowData(version, scale.sort_index(), days[0], days[-1], sources, incidence, eng)


flow_data = store.per_version(_build)


def _all_flows(eng=None) -> pd.DataFrame:
    """Every active flow row, indexed (focus_adcode, direction, date): the whole table, for checks only."""
    f, _, query = _active_flows()
    with (eng or store.engine()).connect() as conn:
        rows = store.frame(
            conn,
            query.add_columns(
                f.c.date,
                f.c.direction,
                f.c.focus_adcode,
                *(f.c[c] for c in FLOW_COLUMNS),
                f.c.batch_id,
                f.c.id,
            ),
        )
    rows = _latest(rows, KEY)
    rows["date"] = pd.to_datetime(rows["date"])
    return rows.set_index(["focus_adcode", "direction", "date"]).sort_index()


def _rows(focus: str, direction: str, day, eng=None) -> pd.DataFrame:
    """The rows of one focus, direction and day (an index lookup): counterpart_adcode/name/level, share_pct."""
    f, _, query = _active_flows()
    query = query.add_columns(*(f.c[c] for c in FLOW_COLUMNS), f.c.batch_id, f.c.id).where(
        f.c.focus_adcode == focus, f.c.direction == direction, f.c.date == _day(day)
    )
    with (eng or store.engine()).connect() as conn:
        rows = store.frame(conn, query)
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "share_pct" else object) for c in FLOW_COLUMNS})
    return _latest(rows, ["counterpart_adcode", "counterpart_level"])


def _inflow(eng, first=None, last=None, focus: str | None = None) -> pd.DataFrame:
    """Inflow rows from prefecture cities (what importation risk weighs) of the days ``first`` to ``last`` (None:
    all), of one focus or every region: date, focus_adcode, counterpart_adcode, counterpart_name, share_pct."""
    f, _, query = _active_flows()
    query = query.add_columns(
        f.c.date, f.c.focus_adcode, f.c.counterpart_adcode, f.c.counterpart_name, f.c.share_pct, f.c.batch_id, f.c.id
    ).where(
        f.c.focus_adcode.in_([focus] if focus else _focus_codes()),
        f.c.direction == "in",
        f.c.counterpart_level == "city",
    )
    if first is not None:
        query = query.where(f.c.date >= _day(first))
    if last is not None:
        query = query.where(f.c.date <= _day(last))
    with eng.connect() as conn:
        rows = store.frame(conn, query)
    rows = _latest(rows, ["date", "focus_adcode", "counterpart_adcode"])
    rows["date"] = pd.to_datetime(rows["date"])
    return rows


def _contributions(eng, first, last, focus: str | None) -> pd.DataFrame:
    """Inflow rows of the days ``first`` to ``last`` with ``origin_active_per_100k`` and ``contribution``."""
    data = flow_data(eng)
    inflow = _inflow(eng, first, last, focus)
    if data.incidence is None:
        return inflow.assign(contribution=float("nan"))
    # the window's days of the incidence only (stacking all of it for a day's rows cost ~120 ms at scale); the
    # first day any origin has a figure is the same in the slice as in the whole, or after the slice ends
    incidence = data.incidence.loc[
        None if first is None else pd.Timestamp(first) : None if last is None else pd.Timestamp(last)
    ]
    return importation.contributions(inflow, incidence)


def has_inflow(eng=None, foci=None) -> bool:
    """Whether any active batch has an inflow row from a prefecture city (what importation risk is made of), of one
    of ``foci`` (None: of any region)."""
    f, _, query = _active_flows()
    query = query.add_columns(f.c.id).where(
        f.c.focus_adcode.in_(list(foci) if foci is not None else _focus_codes()),
        f.c.direction == "in",
        f.c.counterpart_level == "city",
    )
    query = query.limit(1)
    with (eng or store.engine()).connect() as conn:
        return conn.execute(query).first() is not None


def contributions_between(first=None, last=None, eng=None, focus: str | None = None) -> pd.DataFrame:
    """Each origin's part of the importation risk over the days ``first`` to ``last`` (None: from the first or to
    the last day), largest first within a focus and day, index (focus_adcode, date). Reads those days' rows."""
    contrib = _contributions(eng or store.engine(), first, last, focus)
    contrib = contrib.sort_values("contribution", ascending=False, kind="stable")
    return contrib.set_index(["focus_adcode", "date"]).sort_index(kind="stable")


RISK_CHUNK_DAYS = 31  # days of rows read at once for a stretch of importation risk (11 foci: ~80k rows at scale)


def _risk(eng, first=None, last=None, focus: str | None = None) -> pd.Series:
    """Importation risk per (focus_adcode, date) over the days ``first`` to ``last`` (None: the flows' first or
    last day), read a month of rows at a time."""
    data = flow_data(eng)
    if data.incidence is None or data.start is None:
        return pd.Series(dtype=float)
    first = max(pd.Timestamp(first), data.start) if first is not None else data.start
    last = min(pd.Timestamp(last), data.end) if last is not None else data.end
    if focus is not None:  # one region's rows of every day: a few hundred thousand at scale
        return importation.risk(_contributions(eng, first, last, focus))
    parts = [
        importation.risk(_contributions(eng, day, min(day + pd.Timedelta(days=RISK_CHUNK_DAYS - 1), last), None))
        for day in pd.date_range(first, last, freq=f"{RISK_CHUNK_DAYS}D")
    ]
    parts = [part for part in parts if len(part)]
    return pd.concat(parts).sort_index() if parts else pd.Series(dtype=float)


def _risk_window(eng, version: str, first, last) -> pd.Series:
    return _risk(eng, first, last)


def _risk_of(eng, version: str, focus: str) -> pd.Series:
    return _risk(eng, focus=focus)


def _risk_every(eng, version: str) -> pd.Series:
    return _risk(eng)


_risk_days = store.per_version(_risk_window, keep=64)  # a day's (the map, the KPIs) or a block's (the day values)
_risk_focus = store.per_version(_risk_of)
_risk_all = store.per_version(_risk_every, keep=1)


def risk_between(first=None, last=None, eng=None) -> pd.Series:
    """Importation risk of every focus on the days ``first`` to ``last``, (focus_adcode, date) -> risk."""
    if first is None and last is None:
        return _risk_all(eng)
    return _risk_days(eng, None if first is None else _day(first), None if last is None else _day(last))


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
    day = pd.Timestamp(day)
    risk = risk_between(day, day)
    if not len(risk):
        return pd.Series(dtype=float)
    return risk.xs(day, level="date") if day in risk.index.get_level_values(1) else pd.Series(dtype=float)


def risk_series(focus: str) -> pd.Series:
    risk = _risk_focus(None, focus)
    if focus not in risk.index.get_level_values(0):
        return pd.Series(dtype=float)
    return risk.loc[focus]


@cache.memoize
def top_contributors(focus: str, day, n: int = 5) -> pd.DataFrame:
    """The origins that add most to a region's importation risk on a day, largest first."""
    contributions = contributions_between(day, day, focus=focus)
    key = (focus, pd.Timestamp(day))
    if key not in contributions.index:
        return contributions.iloc[:0].reset_index()
    rows = contributions.loc[[key]].reset_index()
    # origins of equal contribution (none yet before their first case) by the larger share
    return rows.sort_values(["contribution", "share_pct"], ascending=False, kind="stable").head(n)
