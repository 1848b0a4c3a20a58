"""Callbacks of the 资源保障 panel on `/` (layouts/resources.py): coverage and adequacy of the chosen region and of
its parts (the province: its 12 units; a unit or a county: the unit's counties), following the region and date
controls. The decisions are plain functions (``panel_rows``, ``summary_text``) so tests call them without a page."""
from __future__ import annotations

import base64
import math

import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, html, no_update

from analytics import allocation
from analytics.adequacy import THRESHOLDS, adequacy, floored
from analytics.coverage import DEFAULT_DISTANCE_KM
from data import cache, resources
from figures import formatting as fmt
from figures import maps, tables
from geo import regions
from geo.units import PROVINCE
from security.roles import requires


def percent(value, digits: int = 0, missing: str = "无数据") -> str:
    """0.796 -> '79%': rounded down like the flags (analytics.adequacy.floored), so 79.6 % never reads as 80 %."""
    if fmt.is_missing(value):
        return missing
    if math.isinf(value):
        return "无开放门诊"
    return f"{floored(value * 100, digits):,.{digits}f}%"


def down(value, digits: int) -> str:
    return "无数据" if fmt.is_missing(value) else f"{floored(float(value), digits):,.{digits}f}"


# column -> (Chinese header, formatter). The adequacy table on screen, in this order.
COLUMNS = {
    "covered_share": ("覆盖人口占比", lambda v: percent(v)),
    "uncovered_population": ("未覆盖人口", lambda v: fmt.count(v, missing="无数据")),
    "clinics": ("开放发热门诊", lambda v: fmt.count(v)),
    "clinic_capacity": ("日接诊能力（人次）", lambda v: fmt.count(v)),
    "new_7d_avg": ("近7日日均新增", lambda v: fmt.rate(v, 1, missing="无数据")),
    "active": ("现有确诊", lambda v: fmt.count(v, missing="无数据")),
    "clinic_load": ("门诊负荷", lambda v: percent(v, 2)),
    "masks_per_1000": ("每千人口罩（只）", lambda v: fmt.count(v, missing="无数据")),
    "stock_days": ("口罩可用天数", lambda v: down(v, 1)),
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


def panel_rows(region: str, day: str, distance_km: float, column: str = "covered_share",
               ascending: bool = True) -> dict:
    """The table: rows sorted (missing last), each cell's text and whether it breaches its threshold."""
    level, parent, title = scope(region)
    frame = adequacy_frame(day, level, parent, float(distance_km))
    if column == "name":
        frame = frame.sort_index(ascending=ascending)
    elif column in frame:
        frame = frame.sort_values(column, ascending=ascending, na_position="last", kind="stable")
    rows = []
    for code, row in frame.iterrows():
        rows.append({
            "adcode": code, "name": row["name"], "flag": row["flag"], "flagged": bool(row["flagged"]),
            "cells": {c: (write(row[c]), breached(c, row[c])) for c, (_, write) in COLUMNS.items()},
        })
    demo = bool(frame["demo"].any())
    return {"rows": rows, "title": f"{title} {fmt.day(day)} · {distance_km:g}公里" + ("（演示数据）" if demo else ""),
            "demo": demo, "selected": region}


def summary_text(region: str, day: str, distance_km: float) -> list[str]:
    """The chosen region in sentences: coverage, clinics against cases, masks, supply points, and its flags."""
    r = regions.get(region)
    level = r.level if r.level != "province" else "province"
    parent = regions.unit_of(region).adcode if level == "county" else None
    row = adequacy_frame(day, level, parent, float(distance_km)).loc[region]
    name = r.display_name
    lines = [
        f"{name}：距开放发热门诊直线{distance_km:g}公里内的人口约 {fmt.count(row['population'] - row['uncovered_population'])} 人，"
        f"占 {percent(row['covered_share'])}，未覆盖约 {fmt.count(row['uncovered_population'])} 人。",
        f"开放发热门诊 {fmt.count(row['clinics'])} 处，日接诊能力 {fmt.count(row['clinic_capacity'])} 人次；"
        + (f"近7日日均新增确诊 {fmt.rate(row['new_7d_avg'], 1)} 例，现有确诊 {fmt.count(row['active'])} 例，"
           f"门诊负荷 {percent(row['clinic_load'], 2)}。" if not fmt.is_missing(row["new_7d_avg"])
           else "该地区该日无病例数据（县级数据需导入），门诊负荷不计算。"),
        f"定点药店口罩库存 {fmt.count(row['mask_stock'])} 只，每千人 {fmt.count(row['masks_per_1000'])} 只，"
        f"按假定消耗速度可用 {down(row['stock_days'], 1)} 天；物资保障点 {fmt.count(row['supply_points'])} 处，"
        f"每万人 {down(row['supply_per_10k'], 2)} 处。",
    ]
    if row["flagged"]:
        lines.append(f"⚠ 提示：{row['flag']}。")
    return lines


def table_component(t: dict, column: str, ascending: bool) -> html.Table:
    arrow = "▲" if ascending else "▼"
    heads = {"name": "地区", **{c: h for c, (h, _) in COLUMNS.items()}, "flag": "提示（低于阈值）"}

    def th(c, label):
        if c == "flag":
            return html.Th(label)
        return html.Th(html.Button(f"{label}{arrow if c == column else ''}", id={"type": "adequacy-sort-btn", "index": c},
                                   className="sort-button"),
                       **{"aria-sort": ("ascending" if ascending else "descending") if c == column else "none"})

    body = []
    for row in t["rows"]:
        cells = [html.Td(html.Button(row["name"], id={"type": "adequacy-row", "index": row["adcode"]},
                                     className="row-button"))]
        cells += [html.Td(text, className="breach" if bad else None) for text, bad in row["cells"].values()]
        cells.append(html.Td(row["flag"] or "—", className="flag-text" if row["flagged"] else "muted"))
        body.append(html.Tr(cells, className="selected" if row["adcode"] == t["selected"] else None,
                            **{"data-adcode": row["adcode"]}))
    return html.Table(className="table adequacy-table",
                      children=[html.Thead(html.Tr([th(c, h) for c, h in heads.items()])), html.Tbody(body)])


@callback(
    Output("adequacy-table", "children"), Output("adequacy-title", "children"), Output("coverage-summary", "children"),
    Output("resources-demo", "hidden"),
    Input("region-select", "value"), Input("view-day", "data"), Input("coverage-distance", "value"),
    Input("adequacy-sort", "data"), Input("page-version", "data"),
)
@requires("view")
def update_panel(region, day, distance_km, sort, _version=None):
    sort = sort or {"column": "covered_share", "ascending": True}
    distance_km = float(distance_km or DEFAULT_DISTANCE_KM)
    t = panel_rows(region or PROVINCE, day, distance_km, sort["column"], sort["ascending"])
    summary = [html.P(line, className="flag-text" if line.startswith("⚠") else None)
               for line in summary_text(region or PROVINCE, day, distance_km)]
    return table_component(t, sort["column"], sort["ascending"]), t["title"], summary, not t["demo"]


@callback(
    Output("adequacy-sort", "data"),
    Input({"type": "adequacy-sort-btn", "index": ALL}, "n_clicks"), State("adequacy-sort", "data"),
    prevent_initial_call=True,
)
@requires("view")
def sort_adequacy(clicks, current):
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or []):
        return no_update
    column = ctx.triggered_id["index"]
    if current and current.get("column") == column:
        return {"column": column, "ascending": not current.get("ascending")}
    # a new column: the worst first (lowest coverage, stock, supply; highest load)
    return {"column": column, "ascending": column not in ("clinic_load", "uncovered_population", "new_7d_avg", "active")}


@callback(
    Output("region-select", "value", allow_duplicate=True),
    Input({"type": "adequacy-row", "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
@requires("view")
def select_from_table(clicks):
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or []):
        return no_update
    return ctx.triggered_id["index"]


# column -> Chinese header of the download: unformatted numbers, every figure behind the flags
DOWNLOAD_COLUMNS = {
    "name": "地区", "population": "常住人口", "clinics": "开放发热门诊（处）", "clinic_capacity": "日接诊能力（人次）",
    "new_7d_avg": "近7日日均新增确诊", "active": "现有确诊", "clinic_load": "门诊负荷（比值）",
    "mask_stock": "口罩库存（只）", "masks_per_1000": "每千人口罩（只）", "mask_use_per_day": "每日消耗（只，假定）",
    "stock_days": "口罩可用天数", "supply_points": "物资保障点（处）", "supply_per_10k": "每万人物资保障点",
    "covered_share": "覆盖人口占比（比值）", "uncovered_population": "未覆盖人口", "flag": "提示", "demo": "演示数据",
}


def download_table(region: str, day: str, distance_km: float) -> pd.DataFrame:
    level, parent, _ = scope(region)
    frame = adequacy_frame(day, level, parent, float(distance_km))
    out = pd.DataFrame({"截至日期": pd.Timestamp(day).date().isoformat(), "地区代码": frame.index,
                        "可达距离（公里，直线）": distance_km})
    for column, header in DOWNLOAD_COLUMNS.items():
        values = frame[column]
        if column == "demo":
            values = values.map({True: "是", False: "否"})
        elif values.dtype.kind == "f":
            values = values.replace([math.inf], float("nan")).round(6)  # no open clinic: empty, the flag says why
        out[header] = values.to_numpy()
    return out


@callback(
    Output("adequacy-download", "data"),
    Input("adequacy-download-csv", "n_clicks"), Input("adequacy-download-xlsx", "n_clicks"),
    State("region-select", "value"), State("date-select", "value"), State("coverage-distance", "value"),
    prevent_initial_call=True,
)
@requires("export", audit="导出资源保障表")
def download(_csv, _xlsx, region, day, distance_km):
    distance_km = float(distance_km or DEFAULT_DISTANCE_KM)
    table = download_table(region or PROVINCE, day, distance_km)
    name = f"资源保障_{regions.get(region or PROVINCE).name}_{day}_{distance_km:g}公里"
    if ctx.triggered_id == "adequacy-download-xlsx":
        return {"content": base64.b64encode(tables.to_xlsx(table, "资源保障")).decode(), "base64": True,
                "filename": f"{name}.xlsx"}
    return {"content": tables.to_csv(table), "filename": f"{name}.csv", "type": "text/csv"}


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
        "summary": allocation.summary_text(s, name) + ("选择“陕西省（全省）”可在全省范围内调配。" if parent and s.unmet else ""),
        "rows": rows,
        "unmet": [(n, f"{int(u):,}") for n, u in zip(short["name"], short["unmet"])],
        "figure": maps.transfer_map(s.transfers, s.counties, resources.county_centroids(), bounds, s.demo),
        "demo": s.demo,
    }


def allocation_table(view: dict) -> list:
    heads = ("调出县区", "调入县区", "口罩数量（只）", "直线距离（公里）")
    children = []
    if view["rows"]:
        body = [html.Tr([html.Td(a), html.Td(b), html.Td(m, className="num"), html.Td(d, className="num")])
                for a, b, m, d in view["rows"]]
        children.append(html.Table(className="table allocation-table", children=[
            html.Caption("建议调拨（按口罩数量从多到少）", className="sr-only"),
            html.Thead(html.Tr([html.Th(h, scope="col", className="num" if i > 1 else None)
                                for i, h in enumerate(heads)])), html.Tbody(body)]))
    else:
        children.append(html.P("无调拨建议。", className="muted"))
    if view["unmet"]:
        children.append(html.P("未能补足：" + "；".join(f"{n} 缺{u}只" for n, u in view["unmet"])
                               + "（范围内可调出量不足）。", className="flag-text"))
    return children


@callback(
    Output("allocation-title", "children"), Output("allocation-summary", "children"),
    Output("allocation-table", "children"), Output("allocation-map", "figure"), Output("allocation-demo", "hidden"),
    Input("region-select", "value"), Input("view-day", "data"), Input("page-version", "data"),
)
@requires("view")
def update_allocation(region, day, _version=None):
    view = allocation_view(region or PROVINCE, day)
    return view["title"], view["summary"], allocation_table(view), view["figure"], not view["demo"]


def allocation_download_table(region: str, day: str) -> pd.DataFrame:
    """The transfers, then the need left unmet (if any), unformatted, with the scope, safe level and 演示数据."""
    parent, name = allocation_scope(region)
    s = resources.mask_transfers(day, parent)
    t = s.transfers
    moves = pd.DataFrame({
        "类型": "调拨", "调出县区代码": t["from_adcode"], "调出县区": t["from_name"], "调入县区代码": t["to_adcode"],
        "调入县区": t["to_name"], "口罩数量（只）": t["masks"], "直线距离（公里）": t["distance_km"].round(3),
        "运量（只·公里）": (t["masks"] * t["distance_km"]).round(1),
    })
    short = s.counties[s.counties["unmet"] > 0]
    gaps = pd.DataFrame({"类型": "缺口（无可调出量）", "调出县区代码": "", "调出县区": "", "调入县区代码": short.index,
                         "调入县区": short["name"].to_numpy(), "口罩数量（只）": short["unmet"].to_numpy()})
    out = pd.concat([moves, gaps], ignore_index=True) if len(gaps) else moves
    out.insert(0, "调配范围", f"{name}（{len(s.counties)}个县区）")
    out.insert(0, "截至日期", pd.Timestamp(day).date().isoformat())
    out["安全库存（天）"] = s.safe_days
    out["距离说明"] = allocation.DISTANCE_BASIS
    out["演示数据"] = "是" if s.demo else "否"
    return out


@callback(
    Output("allocation-download", "data"),
    Input("allocation-download-csv", "n_clicks"), Input("allocation-download-xlsx", "n_clicks"),
    State("region-select", "value"), State("date-select", "value"),
    prevent_initial_call=True,
)
@requires("export", audit="导出口罩调配建议")
def download_allocation(_csv, _xlsx, region, day):
    region = region or PROVINCE
    table = allocation_download_table(region, day)
    parent, name = allocation_scope(region)
    demo = "_演示数据" if resources.mask_transfers(day, parent).demo else ""
    filename = f"口罩调配建议_{name}_{day}{demo}"
    if ctx.triggered_id == "allocation-download-xlsx":
        return {"content": base64.b64encode(tables.to_xlsx(table, "口罩调配建议")).decode(), "base64": True,
                "filename": f"{filename}.xlsx"}
    return {"content": tables.to_csv(table), "filename": f"{filename}.csv", "type": "text/csv"}
