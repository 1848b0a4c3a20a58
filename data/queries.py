"""Read side of the store: everything the pages and the API show, computed once per data version and memoised.

A callback asks for a slice (a region's series, the units on a day); the heavy work (reading the store, deriving
daily figures for every region) happens once per data version in each process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from analytics.assess import assess
from analytics.cases import (
    BASIS,
    compose_total,
    daily_from_cumulative,
    events_daily,
    finish,
    per_100k,
    prefer,
    sum_of_parts,
)
from data import cache, flow_queries, store
from geo import regions
from geo.units import PROVINCE

# From this day the shipped file's province row is probably one day off (data/sources/SOURCES.md, 1a), so the
# province total is the sum of its units and categories from here on.
PROVINCE_ROW_UNTIL = date(2020, 3, 1)


@dataclass(frozen=True)
class CaseData:
    version: str
    daily: pd.DataFrame  # MultiIndex (adcode, date); one row a region and day
    start: date
    end: date
    sources: tuple[str, ...]
    imported: pd.DataFrame  # the province's 境外输入 series, daily
    zones: dict  # (unit adcode, zone name) -> daily frame of a functional zone (西咸新区, 高新区) under that unit


def _latest_reports(eng) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Stored case rows of active batches; where batches overlap, the latest batch's figure wins (a revision)."""
    cr, b = store.case_reports, store.batches
    query = (
        select(
            cr.c.region_adcode,
            cr.c.category,
            cr.c.as_of_date,
            cr.c.confirmed_cum,
            cr.c.cured_cum,
            cr.c.dead_cum,
            cr.c.batch_id,
        )
        .join(b, b.c.id == cr.c.batch_id)
        .where(b.c.status == "active")
    )
    with eng.connect() as conn:
        rows = store.frame(conn, query)
        # in the order they were first stored: DISTINCT alone has no order (SQLite and PostgreSQL differ)
        sources = tuple(
            s
            for (s, _) in conn.execute(
                select(b.c.source, func.min(b.c.id))
                .where(b.c.status == "active", b.c.kind.in_(["cases", "case-list"]))
                .group_by(b.c.source)
                .order_by(func.min(b.c.id))
            )
            if s
        )
    rows = rows.sort_values("batch_id").drop_duplicates(["region_adcode", "category", "as_of_date"], keep="last")
    return rows, sources


def _case_list_events(eng) -> pd.DataFrame:
    """Cases of active case lists per place and report day: region_adcode (a county; the unit or the province where
    the residence names no county), zone, report_date, n. Counted in the store, batch by batch from the index
    ``ix_case_list_batch_place`` alone (the case list's rows never come into the process)."""
    cl, b = store.case_list, store.batches
    query = (
        select(cl.c.batch_id, cl.c.region_adcode, cl.c.zone, cl.c.report_date, func.count().label("n"))
        .where(cl.c.batch_id.in_(select(b.c.id).where(b.c.status == "active")))
        .group_by(cl.c.batch_id, cl.c.region_adcode, cl.c.zone, cl.c.report_date)
    )
    with eng.connect() as conn:
        counts = store.frame(conn, query)
    events = (
        counts.groupby(["region_adcode", "zone", "report_date"], dropna=False, sort=True)["n"].sum().reset_index()
        if len(counts)
        else counts.drop(columns="batch_id")
    )
    events["report_date"] = pd.to_datetime(events["report_date"])
    return events


def _build(eng, version: str) -> CaseData:
    """The derived daily figures of every region, for the store's current data version (see case_data).

    Bottom up, day by day, each region's figure is its own report where it has one (本级通报数); else the sum of its
    parts (下级合计): a unit's counties, its zones and the cases placed in it but no county; the province's units and
    the cases placed in no unit. Case lists are events (病例个案汇总): from the first day they cover, a place without
    a case that day has 0 new. Where a unit reports and its parts have figures too, its own report stands and the
    parts' sum is kept beside it (``parts_confirmed_cum``) for the quality page's 口径差异."""
    rows, sources = _latest_reports(eng)
    events = _case_list_events(eng)
    if rows.empty and events.empty:
        empty = pd.DataFrame(columns=["adcode", "date"]).set_index(["adcode", "date"])
        return CaseData(version, empty, date(2020, 1, 22), date(2020, 1, 22), sources, pd.DataFrame(), {})
    rows["as_of_date"] = pd.to_datetime(rows["as_of_date"])
    known = [
        d
        for d in (rows.as_of_date.min(), rows.as_of_date.max(), events.report_date.min(), events.report_date.max())
        if pd.notna(d)
    ]
    start, end = min(known).date(), max(known).date()
    days = pd.date_range(start, end, freq="D")
    list_start = events.report_date.min() if len(events) else None
    groups = {key: g for key, g in rows.groupby(["region_adcode", "category"])}
    unit_codes = {r.adcode for r in regions.units()}
    unit_days = rows.loc[rows.region_adcode.isin(unit_codes) & rows.category.eq("reported"), "as_of_date"]

    def own(adcode, category="reported"):
        g = groups.get((adcode, category))
        if g is None:
            return None
        return own_basis(daily_from_cumulative(g, start, end, unit_days.unique() if adcode in unit_codes else None))

    quiet = {}  # the frame of a place without a case: the same for every quiet county, made once

    def listed(where) -> pd.DataFrame | None:
        if list_start is None:
            return None
        chosen = events[where]
        if chosen.empty:
            if "frame" not in quiet:
                quiet["frame"] = events_daily(pd.Series(dtype="float64"), days, list_start)
            return quiet["frame"]
        return events_daily(chosen.groupby("report_date")["n"].sum(), days, list_start)

    at_unit = events.region_adcode.isin(unit_codes)
    series, zones = {}, {}
    county_series = {
        c.adcode: prefer(
            own(c.adcode) if c.adcode not in unit_codes else None, listed(events.region_adcode.eq(c.adcode) & ~at_unit)
        )
        for c in regions.counties()
    }
    county_series = {k: v for k, v in county_series.items() if v is not None}
    for unit in regions.units():
        code = unit.adcode
        for adcode, category in groups:
            if adcode == code and category.startswith("zone:"):
                zones[(code, category[5:])] = own(code, category)
        if list_start is not None:
            for zone in events.loc[events.region_adcode.eq(code) & events.zone.notna(), "zone"].unique():
                listed_zone = listed(events.region_adcode.eq(code) & events.zone.eq(zone))
                zones[(code, zone)] = prefer(zones[(code, zone)], listed_zone) if (code, zone) in zones else listed_zone
        parts = [county_series[c.adcode] for c in regions.counties(code) if c.adcode in county_series]
        parts += [f for (u, _), f in zones.items() if u == code]
        if list_start is not None and (events.region_adcode.eq(code) & events.zone.isna()).any():
            parts.append(listed(events.region_adcode.eq(code) & events.zone.isna()))  # 区县不详
        summed = sum_of_parts(parts, days)
        mine = own(code)
        if mine is not None or summed is not None:
            frame = prefer(mine, summed)
            if mine is not None and summed is not None:
                frame["parts_confirmed_cum"] = summed["confirmed_cum"].where(summed["status"] == "reported")
            series[code] = frame
    for code, frame in county_series.items():
        series.setdefault(code, frame)  # 杨陵区 and 韩城市 are units too: the unit's frame stands for both

    extra = {
        cat: daily_from_cumulative(groups[(PROVINCE, cat)], start, end)
        for cat in ("imported", "unassigned")
        if (PROVINCE, cat) in groups
    }
    if "unassigned" in extra and "imported" in extra:
        extra["unassigned"] = _unassigned_once(extra["unassigned"], extra["imported"])
    unit_series = [series[u.adcode] for u in regions.units() if u.adcode in series]
    # the province's own categories (境外输入, 未公布来源) are parts too: after its last own row their cumulative
    # carries on within the stretch of reporting (units reporting a day later must not lose 257 imported cases)
    province_parts = list(unit_series) + [own_basis(frame) for frame in extra.values()]
    if list_start is not None and events.region_adcode.eq(PROVINCE).any():
        province_parts.append(listed(events.region_adcode.eq(PROVINCE)))  # 地区不详
    reported_here = (PROVINCE, "reported") in groups
    if reported_here or unit_series:
        own_province = (
            own(PROVINCE)
            if reported_here
            else daily_from_cumulative(rows.iloc[:0], start, end).assign(status="missing")
        )
        cum, basis = compose_total(own_province, unit_series, list(extra.values()), PROVINCE_ROW_UNTIL)
        # the province's own rows and categories describe their own era; after it, only the sum of its parts
        era_end = (
            max(g.as_of_date.max() for (code, _), g in groups.items() if code == PROVINCE)
            if any(code == PROVINCE for code, _ in groups)
            else pd.Timestamp(start) - pd.Timedelta(days=1)
        )
        cum = cum[cum.index <= era_end]
        reported_total = daily_from_cumulative(cum.dropna().reset_index(names="as_of_date"), start, end)
        reported_total["basis"] = basis.where(basis.index <= era_end, "missing")
        reported_total.loc[reported_total.index > era_end, "status"] = "missing"
        series[PROVINCE] = prefer(reported_total, sum_of_parts(province_parts, days))

    frames = []
    imported_new = extra["imported"]["new_confirmed"] if "imported" in extra else None
    for adcode, frame in series.items():
        region = regions.get(adcode)
        if region is None:
            continue
        f = assess(finish(frame), imported_new if adcode == PROVINCE else None, province=adcode == PROVINCE)
        f["population"] = region.population
        f["confirmed_per_100k"] = per_100k(f["confirmed_cum"], region.population)
        f["incidence_7d_per_100k"] = per_100k(f["new_7d"], region.population)
        f["active_per_100k"] = per_100k(f["active"], region.population)
        f["adcode"] = adcode
        frames.append(f.reset_index())
    daily = pd.concat(frames, ignore_index=True).set_index(["adcode", "date"]).sort_index()
    imported = extra.get("imported", pd.DataFrame())
    zone_frames = {key: finish(frame) for key, frame in zones.items() if frame is not None}
    return CaseData(version, daily, start, end, sources, imported, zone_frames)


def own_basis(frame: pd.DataFrame) -> pd.DataFrame:
    """A region's own rows as a frame: its basis is 本级通报数 on the days it has a figure."""
    frame["basis"] = frame["status"].map({"reported": "own_row", "before_first": "own_row"}).fillna("missing")
    return frame


def _unassigned_once(unassigned: pd.DataFrame, imported: pd.DataFrame) -> pd.DataFrame:
    """未公布来源 holds cases not yet attributed. The source lists a newly announced imported case under both 境外输入
    and 未公布来源 (2020-03-16: 1 and 1; the province's own total says 246, not 247), so a held case is taken to be
    one of the imported cases announced since the day before it was listed, and counted once."""
    out = unassigned.copy()
    listed = pd.Series(out.index.where(out["status"] == "reported"), index=out.index).ffill()
    imported_cum = imported["confirmed_cum"].ffill().fillna(0)
    before_listing = imported_cum.shift(1).fillna(0).reindex(pd.DatetimeIndex(listed.dropna())).to_numpy()
    since = pd.Series(np.nan, index=out.index)
    since[listed.notna()] = imported_cum[listed.notna()].to_numpy() - before_listing
    held = out["confirmed_cum"].ffill()
    out["confirmed_cum"] = (held - since.fillna(0)).clip(lower=0).where(out["confirmed_cum"].notna())
    return out


def view_range(eng=None) -> tuple[date, date]:
    """The days the page can show: from the earliest case or flow day to the latest case day."""
    cases = case_data(eng)
    flows = flow_queries.flow_data(eng)
    start = min(cases.start, flows.start.date()) if flows.start is not None else cases.start
    return start, cases.end


case_data = store.per_version(_build)


def region_series(adcode: str, eng=None) -> pd.DataFrame | None:
    """The daily frame of one region (index: date), or None when nothing was ever reported for it."""
    data = case_data(eng)
    if adcode not in data.daily.index.get_level_values(0):
        return None
    return data.daily.loc[adcode]


def _members(level: str, parent: str | None) -> tuple[list[str], list[str], list]:
    """The codes, names and populations of a level's regions (a unit's counties when ``parent``), in order."""
    members = regions.counties(parent) if level == "county" else regions.units()
    return (
        [r.adcode for r in members],
        [r.display_name if level == "unit" else r.name for r in members],
        [r.population for r in members],
    )


@cache.memoize
def on_day(day, level: str = "unit", eng=None, parent: str | None = None) -> pd.DataFrame:
    """Every region of a level on one day (index: adcode), including regions with no data (all NaN)."""
    data = case_data(eng)
    codes, names, population = _members(level, parent)
    day = pd.Timestamp(day)
    have = data.daily.xs(day, level="date") if len(data.daily) and day in data.daily.index.levels[1] else None
    frame = (
        have.reindex(codes)
        if have is not None
        else pd.DataFrame(index=pd.Index(codes, name="adcode"), columns=data.daily.columns, dtype=object)
    )
    frame["name"] = names
    frame["population"] = population
    if level == "unit":
        frame["importation_risk"] = flow_queries.risk_on_day(day).reindex(frame.index)
    return frame


def days_frame(level: str = "unit", eng=None, parent: str | None = None, columns=None, first=None, last=None):
    """``on_day`` for every day of the view range at once (or of its days from ``first`` to ``last``): the days (ISO
    dates) and one frame of their rows, day after day, each day's rows in the same order (the level's members; index
    adcode), from one reindex of the daily table instead of a lookup per day (a year of a city's map values: 342
    lookups). ``columns``: only these of the daily table (besides name and population), when the caller needs few of
    its ~30."""
    data = case_data(eng)
    codes, names, population = _members(level, parent)
    start, end = view_range(eng)
    days = pd.date_range(max(start, first or start), min(end, last or end), freq="D")
    rows = pd.MultiIndex.from_product([days, codes], names=["date", "adcode"])  # day-major: a day is a slice
    daily = data.daily if columns is None else data.daily[[c for c in columns if c in data.daily]]
    frame = daily.swaplevel().reindex(rows)
    frame["name"] = np.tile(names, len(days))
    frame["population"] = np.tile(population, len(days))
    if level == "unit" and (columns is None or "importation_risk" in columns):
        risk = flow_queries.risk_between(days[0], days[-1]) if len(days) else pd.Series(dtype=float)
        frame["importation_risk"] = risk.swaplevel().reindex(rows).to_numpy() if len(risk) else np.nan
    return [day.date().isoformat() for day in days], frame.reset_index(level="date", drop=True)


FACILITY_COLUMNS = ("id", "kind", "name", "address", "county_adcode", "unit_adcode", "lon", "lat", "status", "attrs")


def _facilities_of(eng, version: str, kind: str) -> pd.DataFrame:
    """Every active facility of one kind, by unit and then as stored (the order of ``ix_facilities_kind_unit``)."""
    f, b = store.facilities, store.batches
    query = (
        select(*(f.c[c] for c in FACILITY_COLUMNS), f.c.is_demo)
        .join(b, b.c.id == f.c.batch_id)
        .where(b.c.status == "active", f.c.kind == kind)
        .order_by(f.c.unit_adcode, f.c.id)
    )
    with eng.connect() as conn:
        return store.frame(conn, query)


# one frame a kind for the whole province (all 100 k points of the scale set once, ~70 MB), not one per kinds and
# unit asked for: those were up to 64 frames, ~340 MB when every layer was shown in every unit
_facility_kinds = store.per_version(_facilities_of, keep=8)


def facilities(kinds: list[str], unit_adcode: str | None = None, eng=None) -> pd.DataFrame:
    """Facilities of the given kinds, optionally inside one reporting unit, with whether they are demo data: by
    kind, then unit, then as stored (the order the store's index gives them)."""
    parts = [_facility_kinds(eng, kind) for kind in sorted(set(kinds))]
    if unit_adcode and unit_adcode != PROVINCE:
        parts = [part[part["unit_adcode"] == unit_adcode] for part in parts]
    parts = [part for part in parts if len(part)]
    if not parts:  # as the store answers a query without rows
        return pd.DataFrame(columns=[*FACILITY_COLUMNS, "is_demo"])
    return pd.concat(parts, ignore_index=True)


SUMMARY_COUNTS = ("confirmed_cum", "cured_cum", "dead_cum", "active", "new_confirmed", "new_7d")


def _value(row, column):
    if row is None or column not in row or pd.isna(row[column]):
        return None
    v = row[column]
    is_count = (
        column in SUMMARY_COUNTS
        or column.startswith(("new_", "correction_", "days_", "rt_cases"))
        or column == "span_days"
    ) and column != "new_7d_avg"
    return int(v) if is_count else round(float(v), 4)


@cache.memoize
def summary(adcode: str, day, eng=None) -> dict:
    """The figures of one region on one day, as the KPI tiles and ``/api/v1/summary`` show them.

    ``date`` is the as-of date (cumulative to 24:00 of that day). Counts are None where the region did not report
    that day (``status`` missing) or never reported (``status`` no_data), never 0 in their place.
    """
    data = case_data(eng)
    day = pd.Timestamp(day)
    series = region_series(adcode, eng)
    row = series.loc[day] if series is not None and day in series.index else None
    previous = (
        series.loc[day - pd.Timedelta(days=1)]
        if row is not None and day - pd.Timedelta(days=1) in series.index
        else None
    )
    return _summary(data, regions.get(adcode), day, row, previous, series is not None)


def summaries(adcode: str, start, end, eng=None) -> list[dict]:
    """``summary`` of every day from start to end, from one pass over the region's series (the API's timeseries:
    a summary call a day cost ~2.5 ms, a year of them most of a second)."""
    data = case_data(eng)
    days = pd.date_range(start, end, freq="D")
    series = region_series(adcode, eng)
    rows = {} if series is None else series.loc[days[0] - pd.Timedelta(days=1) : days[-1]].to_dict("index")
    return [
        _summary(
            data,
            regions.get(adcode),
            day,
            rows.get(day),
            rows.get(day - pd.Timedelta(days=1)) if day in rows else None,
            series is not None,
        )
        for day in days
    ]


def _basis(row) -> str | None:
    """The rule that made the row's figures, and how many parts it lacked that day (its figure is then a floor)."""
    text = BASIS.get(row["basis"])
    missing = row.get("parts_missing")
    if text and row["basis"] in ("sum_of_parts", "case_list") and missing is not None and pd.notna(missing) and missing:
        text += f"（{int(missing)}个下级地区当日未上报，按其此前累计计入，新增不含）"
    return text


def _summary(data: CaseData, region, day: pd.Timestamp, row, previous, reported: bool) -> dict:
    """One region's figures on one day from its row (a Series or a dict; None: no row that day)."""
    status = "no_data" if not reported else ("out_of_range" if row is None else row["status"])
    result = {
        "adcode": region.adcode,
        "name": region.display_name,
        "level": region.level,
        "date": day.date().isoformat(),
        **{c: _value(row, c) for c in SUMMARY_COUNTS},
        "new_cured": _value(row, "new_cured"),
        "new_dead": _value(row, "new_dead"),
        "correction_confirmed": _value(row, "correction_confirmed"),
        "span_days": _value(row, "span_days"),
        "incidence_7d_per_100k": _value(row, "incidence_7d_per_100k"),
        "confirmed_per_100k": _value(row, "confirmed_per_100k"),
        "population": region.population,
        "risk_level": row["risk_level"] if row is not None and isinstance(row["risk_level"], str) else None,
        "rt": _value(row, "rt"),
        "rt_low": _value(row, "rt_low"),
        "rt_high": _value(row, "rt_high"),
        "rt_cases_in_window": _value(row, "rt_cases"),
        "growth_rate": _value(row, "growth_rate"),
        "doubling_time_days": _value(row, "doubling_time_days"),
        "halving_time_days": _value(row, "halving_time_days"),
        "days_since_last_case": _value(row, "days_since_last_case"),
        "status": status,
        "basis": _basis(row) if row is not None and status != "no_data" else None,
        # the day a case-list cumulative counts from, after a gap (自2021年12月9日起); None: from the first report
        "cumulative_from": (
            pd.Timestamp(row["cum_from"]).date().isoformat()
            if row is not None and "cum_from" in row and pd.notna(row["cum_from"])
            else None
        ),
        "growth_trend": row["growth_trend"] if row is not None and isinstance(row.get("growth_trend"), str) else None,
        "data_as_of": data.end.isoformat(),
        "sources": list(data.sources),
        "suppression": None,  # exact here; data/disclosure.py marks what it hides from the public
    }
    for c in ("confirmed_cum", "active", "new_confirmed", "cured_cum", "dead_cum"):
        prev = _value(previous, c)
        result[f"{c}_change"] = None if prev is None or result[c] is None else result[c] - prev
    return result


def zone_rows(day, eng=None) -> dict[str, list[tuple[str, int, int]]]:
    """unit adcode -> its functional zones with cases by the day: (name, cumulative, new in 7 days), largest first."""
    out: dict[str, list] = {}
    for (unit, name), frame in case_data(eng).zones.items():
        known = frame.loc[: pd.Timestamp(day)].dropna(subset=["confirmed_cum"])
        if len(known) and known["confirmed_cum"].iloc[-1] > 0:
            last = known.iloc[-1]
            new_7d = int(last["new_7d"]) if known.index[-1] == pd.Timestamp(day) and pd.notna(last["new_7d"]) else 0
            out.setdefault(unit, []).append((name, int(last["confirmed_cum"]), new_7d))
    return {unit: sorted(rows, key=lambda row: -row[1]) for unit, rows in out.items()}


def zones_on_day(unit_adcode: str, day, eng=None) -> list[tuple[str, int]]:
    """The functional zones of a unit with their cumulative cases on a day (as of its last figure), largest first."""
    return [(name, cum) for name, cum, _ in zone_rows(day, eng).get(unit_adcode, [])]


@cache.memoize
def last_update(eng=None):
    """When the newest active batch was stored: the data's freshness, shown on the wall."""
    eng = eng or store.engine()
    with eng.connect() as conn:
        value = conn.execute(
            select(func.max(store.batches.c.created_at)).where(store.batches.c.status == "active")
        ).scalar()
    return pd.Timestamp(value) if value is not None else None
