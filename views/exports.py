"""What a chart's exports carry: the file name and title of its picture, and the data behind it as a table (the
CSV/XLSX under each chart and the table alternative read the same frame)."""

from __future__ import annotations

import pandas as pd

from data import flow_queries as fq
from data import formatting as fmt
from data import queries
from data.catalogue import title
from figures import tables
from figures.metrics import METRICS
from geo import regions

CHART_NAMES = {
    "region-map": "地图",
    "trend-chart": "趋势图",
    "flow-chart": "人口流动",
    "scale-chart": "迁徙规模指数",
    "od-chart": "省内迁徙矩阵",
    "import-chart": "输入风险",
}


def export_names(region: str, day: str, metric: str, layers) -> dict:
    """File name and title of each chart's export: chart, region and date; 演示数据 where demo layers are on."""
    name = regions.get(region).display_name
    demo = "（含演示数据）" if layers else ""
    out = {}
    for chart, label in CHART_NAMES.items():
        what = f"{METRICS[metric].label}地图" if chart == "region-map" else label
        out[chart] = {
            "file": f"{label}_{name}_{day}",
            "title": f"{name} {what} · {fmt.as_of(day)}{demo if chart == 'region-map' else ''}",
        }
    return out


def chart_table(
    chart: str, region: str, day: str, direction: str = "in", scope: str = "national", level: str = "city"
) -> pd.DataFrame:
    """The data behind a chart as it is shown."""
    name = regions.get(region).display_name
    if chart == "region-map":
        unit = regions.unit_of(region)
        frame = queries.on_day(day, "county", parent=unit.adcode) if unit else queries.on_day(day, "unit")
        return tables.units_table(frame, day)
    if chart == "trend-chart":
        series = queries.region_series(region)
        return tables.series_table(series, name) if series is not None else pd.DataFrame({"地区": [name]})
    focus, _ = fq.focus_for(region)
    if chart == "flow-chart" and focus:
        return tables.flow_ranking_table(
            fq.ranking(focus, day, direction, level, scope), regions.get(focus).display_name, day, direction
        )
    if chart == "scale-chart" and focus:
        s = fq.scale_series(focus)
        return pd.DataFrame(
            {
                "日期": s.index.strftime("%Y-%m-%d"),
                "地区": regions.get(focus).display_name,
                "迁入规模指数": s.get("in"),
                "迁出规模指数": s.get("out"),
            }
        )
    if chart == "od-chart":
        matrix = fq.od_matrix(day)
        names = {u.adcode: u.name for u in regions.units()}
        out = matrix.rename(index=names, columns=names).round(2)
        out.index.name = "目的地＼来源地（占目的地迁入%）"
        return out.reset_index()
    if chart == "import-chart":
        risk = fq.risk_on_day(day)
        rows = []
        for code, value in risk.items():
            top = fq.top_contributors(code, day, 3)
            rows.append(
                {
                    "日期": day,
                    "地区代码": code,
                    "地区": regions.get(code).display_name,
                    title("importation_risk"): round(float(value), 6) if pd.notna(value) else None,
                    "主要来源": "、".join(top.counterpart_name),
                }
            )
        return pd.DataFrame(rows)
    return pd.DataFrame({"说明": ["该视图无数据"]})
