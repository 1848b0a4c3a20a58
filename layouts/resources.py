"""The 资源保障 panel of `/`: fever-clinic coverage at a chosen straight-line distance and supply adequacy (clinic
load, masks, supply points) for the chosen region and its parts, with the flags and the numbers behind them.
Filled by callbacks/resources.py; the distance also drives the map's 未覆盖区域 layer and is kept in the URL."""
from __future__ import annotations

from dash import dcc, html

from analytics import adequacy, coverage


def panel(state) -> html.Section:
    return html.Section(className="resources", **{"aria-label": "资源保障"}, children=[
        html.Div(className="flows-head", children=[
            html.H2("资源保障：发热门诊覆盖与物资"),
            html.Div(className="distance-control", children=[
                html.Span("发热门诊可达距离（直线）", className="label", id="coverage-distance-label"),
                dcc.RadioItems(id="coverage-distance", value=state.distance, inline=True, className="segmented",
                               options=[{"label": f"{d}公里", "value": d} for d in coverage.DISTANCES_KM]),
            ]),
            html.Span("演示数据", id="resources-demo", className="demo-badge resources-badge",
                      title="发热门诊、定点药店、物资保障点为系统按人口生成的演示数据，非真实设施"),
        ]),
        html.Div(id="coverage-summary", className="card coverage-summary"),
        html.Div(className="card card-table adequacy-card", children=[
            html.Div(className="table-head", children=[
                html.H2(id="adequacy-title"),
                html.Div(className="brief-row", children=[
                    html.Button("下载 CSV", id="adequacy-download-csv", className="small-button"),
                    html.Button("下载 XLSX", id="adequacy-download-xlsx", className="small-button"),
                ]),
                dcc.Download(id="adequacy-download"),
            ]),
            dcc.Store(id="adequacy-sort", data={"column": "covered_share", "ascending": True}),
            html.Div(id="adequacy-table"),
        ]),
        html.Div(className="note", children=[
            f"提示阈值：{adequacy.thresholds_text()}。{adequacy.LOAD_NOTE}。{adequacy.RATE_NOTE}，"
            "口罩可用天数 = 开放定点药店口罩库存 ÷ 每日消耗。",
            f"覆盖：以开放发热门诊为圆心按所选直线距离作缓冲区（CGCS2000 高斯-克吕格 3度带 中央经线108°E，EPSG:4545，"
            f"按米计算）；{coverage.ASSUMPTION}；{coverage.DISTANCE_NOTE}。人均指标按辖区各县（区）第七次人口普查人口计。",
        ]),
    ])
