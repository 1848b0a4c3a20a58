"""The KPI tiles of `/` and `/wall` and the notes under them: the same summary as the API's, in words."""

from __future__ import annotations

import pandas as pd

from data import cache, queries, store
from data import formatting as fmt
from geo import regions
from geo.units import PROVINCE

# tile key (the page's ids are kpi-<key> and kpi-<key>-delta) -> the summary's column
KPI_COLUMNS = {
    "confirmed": "confirmed_cum",
    "active": "active",
    "new": "new_confirmed",
    "cured": "cured_cum",
    "dead": "dead_cum",
}


def kpis(region: str, day: str) -> dict:
    """Text of each KPI tile and its change against the day before, from the same summary as the API."""
    s = queries.summary(region, day)
    return {**tiles(s), "summary": s}


def tiles(s: dict) -> dict:
    """The tiles' texts of one summary (``queries.summary``): each count and its change against the day before."""
    missing = {"missing": fmt.MISSING, "no_data": "无数据", "out_of_range": "无数据"}.get(s["status"], fmt.MISSING)
    out = {}
    for key, column in KPI_COLUMNS.items():
        out[key] = fmt.count(s[column], missing=missing)
        change = s.get(f"{column}_change")
        out[f"{key}-delta"] = "" if change is None else f"较前日 {fmt.signed(change)}"
        if s["status"] == "reported" and s[column] is None:  # reported, but its source has no such count
            out[key], out[f"{key}-delta"] = (
                "—",
                "病例个案不含治愈、死亡" if (s["basis"] or "").startswith("病例个案") else "来源未报此项",
            )
    if s["span_days"] and s["span_days"] > 1:
        out["new-delta"] = f"含此前{int(s['span_days']) - 1}日未上报的新增"
    if s["correction_confirmed"]:
        out["new-delta"] = f"核减订正 {s['correction_confirmed']} 例"
    if s.get("cumulative_from"):  # a later wave's case lists count from their first day, not from 2020
        out["confirmed-delta"] = f"自{fmt.full_day(s['cumulative_from'])}起 " + out["confirmed-delta"]
    return out


# What the KPI row shows of a day, in this order: the five tiles, then their changes (assets/dashboard.js showKpis).
BOOK_KEYS = (*KPI_COLUMNS, *(f"{k}-delta" for k in KPI_COLUMNS))


def kpi_book(region: str) -> dict:
    """``_kpi_book``, also held in each process per data version (see views.maps._held_map_days)."""
    return _held_kpi_book(None, region)


@cache.memoize
def _kpi_book(region: str) -> dict:
    """Every day's KPI row of one region, so that the browser shows a date or region change without a request:
    the same texts as ``kpi_texts`` (one summary pass over the region's days, ``queries.summaries``). Days with the
    same tiles share one entry of ``rows``; ``days`` gives each day's row, from ``first`` on (after an outbreak
    most days repeat). The as-of line is ``fmt.as_of`` of the day, written the same way in assets/dashboard.js.
    Kept per data version; a city's book is ~2 KB of JSON before compression, the province's ~14 KB."""
    start, end = queries.view_range()
    rows, seen, days = [], {}, []
    for s in queries.summaries(region, start, end):
        t = tiles(s)
        row = [t[k] for k in BOOK_KEYS]
        days.append(seen.setdefault("\x1f".join(row), len(rows)))
        if days[-1] == len(rows):
            rows.append(row)
    return {"region": regions.get(region).display_name, "first": start.isoformat(), "rows": rows, "days": days}


_held_kpi_book = store.per_version(lambda _eng, _version, region: _kpi_book(region), keep=64)


def notes(region: str, day: str, summary: dict) -> list[str]:
    """What a reader must know to read the figures right."""
    lines = []
    r = regions.get(region)
    if summary["status"] == "missing":
        lines.append(f"{r.name}{fmt.day(day)}未上报，显示为“未上报”而非 0。")
    if summary["status"] == "no_data":
        lines.append(f"{r.name}暂无分县数据：2020年通报只到市（区）一级，县级数据需通过数据导入补充。")
    if summary["basis"] and (region == PROVINCE or summary["basis"] != queries.BASIS["own_row"]):
        lines.append(f"{'全省' if region == PROVINCE else r.name}数据口径：{summary['basis']}。")
    if summary.get("cumulative_from"):
        lines.append(f"累计数自{fmt.full_day(summary['cumulative_from'])}起计（此前的数字属于更早的疫情，见趋势图）。")
    zones = queries.zones_on_day(region, day) if r.level == "unit" else []
    if zones:
        lines.append("其中功能区（累计）：" + "、".join(f"{name} {fmt.count(n)} 例" for name, n in zones) + "。")
    if pd.Timestamp(day) < pd.Timestamp("2020-02-07") and region != PROVINCE:
        lines.append("2月7日前各市治愈、死亡数多只在省级通报，市级数值偏低。")
    if region in ("610400", "610500"):
        lines.append(f"{r.display_name}：按通报口径，不含单列的{'杨凌示范区' if region == '610400' else '韩城市'}。")
    return lines


def kpi_texts(region: str, day: str) -> dict:
    """Everything the KPI row of `/` shows, by name: each tile and its change, the region, the as-of line, the
    notes and the sources."""
    values = kpis(region, day)
    s = values["summary"]
    return {
        **{k: values[k] for k in KPI_COLUMNS},
        **{f"{k}-delta": values[f"{k}-delta"] for k in KPI_COLUMNS},
        "region": regions.get(region).display_name,
        "as_of": fmt.as_of(day),
        "notes": " ".join(notes(region, day, s)),
        "sources": "；".join(s["sources"]) or "无",
    }


def book_regions(region: str | None, units: bool = True) -> list[str]:
    """The regions whose books a page of ``region`` holds: its own, its unit's and the province's when it opens
    (``units`` False), and every unit's (the regions a region change most often picks) once its map is drawn: at
    years of days the 12 books are ~2.8 MB of JSON, which held the page's first view back."""
    region = region if region and regions.get(region) else PROVINCE
    unit = regions.unit_of(region)
    first = [region, *([unit.adcode] if unit else []), PROVINCE]
    return list(dict.fromkeys([*first, *(regions.province_and_units() if units else [])]))


def kpi_books(region: str | None, units: bool = True) -> dict:
    """The books of ``book_regions``."""
    return {r: kpi_book(r) for r in book_regions(region, units)}
