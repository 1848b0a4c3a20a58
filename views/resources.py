"""The 资源保障 panel of `/` (layouts/resources.py): coverage and adequacy of the chosen region and of its parts
(the province: its 12 units; a unit or a county: the unit's counties), the sentences about the chosen region, the
table as a download; and the 口罩调配建议 card (analytics/allocation.py): transfers from counties above the safe
stock to counties below it, as a sentence, rows, a map and a download."""

from __future__ import annotations

import base64
import math

import pandas as pd

from analytics import allocation
from analytics.adequacy import THRESHOLDS, floored
from data import cache, resources
from data import formatting as fmt
from data.catalogue import title
from data.resources import adequacy
from figures import maps, tables
from geo import regions

DEFAULT_SORT = {"column": "covered_share", "ascending": True}
# columns where a larger number is worse: a first click on them sorts largest first
WORSE_WHEN_LARGER = ("clinic_load", "uncovered_population", "new_7d_avg", "active")


def percent(value, digits: int = 0, missing: str = "无数据") -> str:
    """0.796 -> '79%': rounded down like the flags (analytics.adequacy.floored), so 79.6 % never reads as 80 %."""
    if fmt.is_missing(value):
        return missing
    if math.isinf(value):
        return "无开放门诊"
    return f"{floored(value * 100, digits):,.{digits}f}%"


def down(value, digits: int) -> str:
    return "无数据" if fmt.is_missing(value) else f"{floored(float(value), digits):,.{digits}f}"


# column -> (Chinese header, formatter). The adequacy table on screen, in this order: the catalogue's headers,
# shortened where the narrow table needs it.
COLUMNS = {
    "covered_share": ("覆盖人口占比", lambda v: percent(v)),
    "uncovered_population": ("未覆盖人口", lambda v: fmt.count(v, missing="无数据")),
    "clinics": ("开放发热门诊", lambda v: fmt.count(v)),
    "clinic_capacity": (title("clinic_capacity", "adequacy"), lambda v: fmt.count(v)),
    "new_7d_avg": ("近7日日均新增", lambda v: fmt.rate(v, 1, missing="无数据")),
    "active": (title("active", "adequacy"), lambda v: fmt.count(v, missing="无数据")),
    "clinic_load": (title("clinic_load", "adequacy"), lambda v: percent(v, 2)),
    "masks_per_1000": (title("masks_per_1000", "adequacy"), lambda v: fmt.count(v, missing="无数据")),
    "stock_days": (title("stock_days", "adequacy"), lambda v: down(v, 1)),
    "supply_per_10k": ("每万人保障点", lambda v: down(v, 2)),
}


@cache.memoize
def adequacy_frame(day: str, level: str, parent: str | None, distance_km: float) -> pd.DataFrame:
    """adequacy() per data version in the shared cache, with the uncovered people added."""
    frame = adequacy(day, level, parent, distance_km)
    frame["uncovered_population"] = (frame["population"] * (1 - frame["covered_share"])).clip(lower=0)
    return frame


def scope(region: str) -> tuple[str, str | None, str]:
    """The rows the table lists for a chosen region: (level, parent, title)."""
    r = regions.get(region)
    if r is None or r.level == "province":
        return "unit", None, "各市（区）"
    unit = regions.unit_of(region)
    return "county", unit.adcode, f"{unit.display_name}各县（区）"


def breached(column: str, value) -> bool:
    if column not in THRESHOLDS or fmt.is_missing(value):
        return False
    op, limit, *_ = THRESHOLDS[column]
    return value >= limit if op == ">=" else value < limit


def panel_rows(
    region: str, day: str, distance_km: float, column: str = "covered_share", ascending: bool = True
) -> dict:
    """The table: rows sorted (missing last), each cell's text and whether it breaches its threshold."""
    level, parent, title = scope(region)
    frame = adequacy_frame(day, level, parent, float(distance_km))
    if column == "name":
        frame = frame.sort_index(ascending=ascending)
    elif column in frame:
        frame = frame.sort_values(column, ascending=ascending, na_position="last", kind="stable")
    rows = []
    for code, row in frame.iterrows():
        rows.append(
            {
                "adcode": code,
                "name": row["name"],
                "flag": row["flag"],
                "flagged": bool(row["flagged"]),
                "cells": {c: (write(row[c]), breached(c, row[c])) for c, (_, write) in COLUMNS.items()},
            }
        )
    demo = bool(frame["demo"].any())
    return {
        "rows": rows,
        "title": f"{title} {fmt.day(day)} · {distance_km:g}公里" + ("（演示数据）" if demo else ""),
        "demo": demo,
        "selected": region,
    }


def next_sort(current: dict | None, column: str) -> dict:
    """Clicking the sorted column flips the order; a new column shows the worst first (lowest coverage, stock,
    supply; highest load)."""
    if current and current.get("column") == column:
        return {"column": column, "ascending": not current.get("ascending")}
    return {"column": column, "ascending": column not in WORSE_WHEN_LARGER}


def summary_text(region: str, day: str, distance_km: float) -> list[str]:
    """The chosen region in sentences: coverage, clinics against cases, masks, supply points, and its flags."""
    r = regions.get(region)
    level = r.level if r.level != "province" else "province"
    parent = regions.unit_of(region).adcode if level == "county" else None
    row = adequacy_frame(day, level, parent, float(distance_km)).loc[region]
    name = r.display_name
    lines = [
        f"{name}：距开放发热门诊直线{distance_km:g}公里内的人口约"
        f" {fmt.count(row['population'] - row['uncovered_population'])} 人，"
        f"占 {percent(row['covered_share'])}，未覆盖约 {fmt.count(row['uncovered_population'])} 人。",
        f"开放发热门诊 {fmt.count(row['clinics'])} 处，日接诊能力 {fmt.count(row['clinic_capacity'])} 人次；"
        + (
            f"近7日日均新增确诊 {fmt.rate(row['new_7d_avg'], 1)} 例，现有确诊 {fmt.count(row['active'])} 例，"
            f"门诊负荷 {percent(row['clinic_load'], 2)}。"
            if not fmt.is_missing(row["new_7d_avg"])
            else "该地区该日无病例数据（县级数据需导入），门诊负荷不计算。"
        ),
        f"定点药店口罩库存 {fmt.count(row['mask_stock'])} 只，每千人 {fmt.count(row['masks_per_1000'])} 只，"
        f"按假定消耗速度可用 {down(row['stock_days'], 1)} 天；物资保障点 {fmt.count(row['supply_points'])} 处，"
        f"每万人 {down(row['supply_per_10k'], 2)} 处。",
    ]
    if row["flagged"]:
        lines.append(f"⚠ 提示：{row['flag']}。")
    return lines


# column -> Chinese header of the download: unformatted numbers, every figure behind the flags. The catalogue's
# headers of the adequacy data set, but for the shares (given here as ratios, which the header says) and the
# uncovered people, which the catalogue does not hold.
_DOWNLOAD_ONLY = {
    "clinic_load": "门诊负荷（比值）",
    "covered_share": "覆盖人口占比（比值）",
    "uncovered_population": "未覆盖人口",
}
DOWNLOAD_COLUMNS = {
    c: _DOWNLOAD_ONLY.get(c) or title(c, "adequacy")
    for c in (
        "name",
        "population",
        "clinics",
        "clinic_capacity",
        "new_7d_avg",
        "active",
        "clinic_load",
        "mask_stock",
        "masks_per_1000",
        "mask_use_per_day",
        "stock_days",
        "supply_points",
        "supply_per_10k",
        "covered_share",
        "uncovered_population",
        "flag",
        "demo",
    )
}


def download_table(region: str, day: str, distance_km: float) -> pd.DataFrame:
    level, parent, _ = scope(region)
    frame = adequacy_frame(day, level, parent, float(distance_km))
    out = pd.DataFrame(
        {
            "截至日期": pd.Timestamp(day).date().isoformat(),
            "地区代码": frame.index,
            "可达距离（公里，直线）": distance_km,
        }
    )
    for column, header in DOWNLOAD_COLUMNS.items():
        values = frame[column]
        if column == "demo":
            values = values.map({True: "是", False: "否"})
        elif values.dtype.kind == "f":
            values = values.replace([math.inf], float("nan")).round(6)  # no open clinic: empty, the flag says why
        out[header] = values.to_numpy()
    return out


def _download(table: pd.DataFrame, sheet: str, name: str, kind: str) -> dict:
    """A table as the download Dash sends: XLSX (base64) or CSV."""
    if kind == "xlsx":
        return {
            "content": base64.b64encode(tables.to_xlsx(table, sheet)).decode(),
            "base64": True,
            "filename": f"{name}.xlsx",
        }
    return {"content": tables.to_csv(table), "filename": f"{name}.csv", "type": "text/csv"}


def adequacy_download(region: str, day: str, distance_km: float, kind: str) -> dict:
    """The adequacy table of the region's parts, unformatted, as CSV or XLSX."""
    table = download_table(region, day, distance_km)
    return _download(table, "资源保障", f"资源保障_{regions.get(region).name}_{day}_{distance_km:g}公里", kind)


# ---- 口罩调配建议 (analytics/allocation.py): transfers from counties above the safe stock to counties below it ----
def allocation_scope(region: str) -> tuple[str | None, str]:
    """Where masks may move for a chosen region: (unit adcode or None for the province's 107 counties, its name)."""
    r = regions.get(region)
    if r is None or r.level == "province":
        return None, "全省"
    unit = regions.unit_of(region)
    return unit.adcode, unit.display_name


def allocation_view(region: str, day: str) -> dict:
    """Everything the card shows: title, sentence, table rows, unmet rows, the map figure, demo."""
    parent, name = allocation_scope(region)
    return _scope_view(parent, name, day)


@cache.memoize
def _scope_view(parent: str | None, name: str, day: str) -> dict:
    """The card of a scope and day, made once per data version: every county of a unit shares its unit's card, and a
    step back to a day shown before redraws nothing on the server."""
    s = resources.mask_transfers(day, parent)
    members = len(s.counties)
    bounds = (regions.unit(parent) if parent else regions.province()).bounds
    rows = [(t.from_name, t.to_name, f"{int(t.masks):,}", f"{t.distance_km:.1f}") for t in s.transfers.itertuples()]
    short = s.counties[s.counties["unmet"] > 0]
    return {
        "title": f"口罩调配建议 · {name}（{members}个县区） · {fmt.day(day)}" + ("（演示数据）" if s.demo else ""),
        "summary": allocation.summary_text(s, name)
        + ("选择“陕西省（全省）”可在全省范围内调配。" if parent and s.unmet else ""),
        "rows": rows,
        "unmet": [(n, f"{int(u):,}") for n, u in zip(short["name"], short["unmet"])],
        "figure": maps.transfer_map(s.transfers, s.counties, resources.county_centroids(), bounds, s.demo),
        "demo": s.demo,
    }


def allocation_download_table(region: str, day: str) -> pd.DataFrame:
    """The transfers, then the need left unmet (if any), unformatted, with the scope, safe level and 演示数据."""
    parent, name = allocation_scope(region)
    s = resources.mask_transfers(day, parent)
    t = s.transfers
    moves = pd.DataFrame(
        {
            "类型": "调拨",
            "调出县区代码": t["from_adcode"],
            "调出县区": t["from_name"],
            "调入县区代码": t["to_adcode"],
            "调入县区": t["to_name"],
            "口罩数量（只）": t["masks"],
            "直线距离（公里）": t["distance_km"].round(3),
            "运量（只·公里）": (t["masks"] * t["distance_km"]).round(1),
        }
    )
    short = s.counties[s.counties["unmet"] > 0]
    gaps = pd.DataFrame(
        {
            "类型": "缺口（无可调出量）",
            "调出县区代码": "",
            "调出县区": "",
            "调入县区代码": short.index,
            "调入县区": short["name"].to_numpy(),
            "口罩数量（只）": short["unmet"].to_numpy(),
        }
    )
    out = pd.concat([moves, gaps], ignore_index=True) if len(gaps) else moves
    out.insert(0, "调配范围", f"{name}（{len(s.counties)}个县区）")
    out.insert(0, "截至日期", pd.Timestamp(day).date().isoformat())
    out["安全库存（天）"] = s.safe_days
    out["距离说明"] = allocation.DISTANCE_BASIS
    out["演示数据"] = "是" if s.demo else "否"
    return out


def allocation_download(region: str, day: str, kind: str) -> dict:
    """The transfers and unmet need, as CSV or XLSX; a file of demo data says so in its name."""
    table = allocation_download_table(region, day)
    parent, name = allocation_scope(region)
    demo = "_演示数据" if resources.mask_transfers(day, parent).demo else ""
    return _download(table, "口罩调配建议", f"口罩调配建议_{name}_{day}{demo}", kind)
