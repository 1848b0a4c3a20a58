"""Exports from `/`: every chart as PNG (2x) or SVG from the browser, with a title and a file name that say what
it shows; the table behind every chart as CSV or XLSX with Chinese headers and the view's filters applied."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import pandas as pd
from dash import ALL, Input, Output, State, clientside_callback, ctx, no_update

from callbacks.declare import declared_callback
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


@declared_callback(
    Output("export-names", "data"),
    Input("region-select", "value"),
    Input("view-day", "data"),
    Input("metric-select", "value"),
    Input("layer-select", "value"),
    permission="view",
)
def update_export_names(region, day, metric, layers):
    return export_names(region, day, metric, layers)


clientside_callback(
    """async function(clicks, names) {
        const t = dash_clientside.callback_context.triggered_id;
        if (!t || !clicks.some(Boolean)) { return dash_clientside.no_update; }
        const gd = document.querySelector(`#${t.chart} .js-plotly-plot`);
        const meta = names[t.chart];
        const layout = Object.assign({}, gd.layout, {title: {text: meta.title, x: 0.01, font: {size: 16}}});
        layout.margin = Object.assign({}, gd.layout.margin || {}, {t: 56});
        const url = await Plotly.toImage({data: gd.data, layout: layout, config: {}},
            {format: t.fmt, scale: 2, width: gd._fullLayout.width, height: gd._fullLayout.height});
        const a = document.createElement('a');
        a.href = url; a.download = `${meta.file}.${t.fmt}`;
        document.body.appendChild(a); a.click(); a.remove();
        return `${meta.file}.${t.fmt}`;
    }""",
    Output("export-done", "data"),
    Input({"type": "img-export", "chart": ALL, "fmt": ALL}, "n_clicks"),
    State("export-names", "data"),
    prevent_initial_call=True,
)


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


@declared_callback(
    Output("data-download", "data"),
    Input({"type": "data-export", "chart": ALL, "fmt": ALL}, "n_clicks"),
    State("region-select", "value"),
    State("date-select", "value"),
    State("flow-direction", "value"),
    State("flow-scope", "value"),
    State("flow-level", "value"),
    State("export-names", "data"),
    prevent_initial_call=True,
    permission="export",
    audit="导出图表数据",
)
def download_chart_data(clicks, region, day, direction, scope, level, names):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks or []):
        return no_update
    frame = chart_table(trigger["chart"], region, day, direction, scope, level)
    base = (names or export_names(region, day, "confirmed_cum", []))[trigger["chart"]]["file"]
    if trigger["fmt"] == "xlsx":
        return {
            "content": base64.b64encode(tables.to_xlsx(frame, "数据")).decode(),
            "base64": True,
            "filename": f"{base}.xlsx",
        }
    return {"content": tables.to_csv(frame), "filename": f"{base}.csv", "type": "text/csv"}


@declared_callback(
    Output("brief-download", "data"),
    Input("brief-button", "n_clicks"),
    State("region-select", "value"),
    State("date-select", "value"),
    State("brief-format", "value"),
    background=True,
    running=[
        (Output("brief-button", "disabled"), True, False),
        (Output("brief-cancel", "hidden"), False, True),
        (Output("brief-progress-box", "hidden"), False, True),
    ],
    cancel=[Input("brief-cancel", "n_clicks")],
    progress=[Output("brief-progress", "value"), Output("brief-progress", "max"), Output("brief-status", "children")],
    prevent_initial_call=True,
    permission="export",
    audit="生成汇报材料",
)
def make_brief(set_progress, _n, region, day, kind):
    """The briefing pack, made in a background process: the page stays live, shows progress, and can cancel."""
    from reports import briefing  # noqa: PLC0415  (kaleido loads only when a pack is made: 0.25 s off each start)

    name = regions.get(region).display_name
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"汇报材料_{name}_{day}.{kind}"
        try:
            briefing.write(region, day, out, progress=lambda step, total, text: set_progress((step, total, text)))
        except briefing.RenderTimeout as exc:  # said on the page, where the progress is shown
            set_progress((0, briefing.STEPS, str(exc)))
            return no_update
        set_progress((briefing.STEPS, briefing.STEPS, "已完成"))
        return {"content": base64.b64encode(out.read_bytes()).decode(), "base64": True, "filename": out.name}
