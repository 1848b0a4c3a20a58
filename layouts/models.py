"""`/models` (模型评估): how good the models have been, in the open. The forecasts' rolling-origin backtest over the
real series (relative WIS against the baseline, interval coverage, by horizon; filled by callbacks/models.py, made
once per data version), and the importation-risk metric checked against where cases appeared in 2020."""

from __future__ import annotations

import dash
from dash import dcc, html

from analytics import forecast as forecast_model
from analytics import importation
from data import forecasts, importation_check
from figures import models as model_figures
from layouts.accessibility import table_panel, table_toggle
from layouts.dashboard import GRAPH_CONFIG

dash.register_page(
    __name__, path="/models", draws_charts=True, title="模型评估 · 陕西省疫情防控态势感知看板", name="模型评估"
)


def chart(chart_id: str, figure=None, height: int = 380) -> html.Div:
    """A chart with its 表格 button (the table alternative, assets/a11y.js)."""
    return html.Div(
        className="card",
        children=[
            html.Div(
                className="chart-tools",
                children=[html.Div(className="export-bar", children=[table_toggle(chart_id)]), table_panel(chart_id)],
            ),
            dcc.Graph(id=chart_id, figure=figure or {}, config=GRAPH_CONFIG, style={"height": f"{height}px"}),
        ],
    )


def layout(**_query) -> html.Div:
    check = importation_check.result()
    stats = check.stats
    return html.Div(
        className="page data-page models-page",
        children=[
            html.Header(
                className="topbar",
                children=[
                    html.H1("模型评估"),
                    html.Nav(
                        className="nav",
                        children=[
                            dcc.Link("态势总览", href="/"),
                            dcc.Link("大屏", href="/wall"),
                            dcc.Link("数据管理", href="/data"),
                        ],
                    ),
                ],
            ),
            html.Section(
                className="card",
                **{"aria-label": "预测回测"},
                children=[
                    html.H2("预测回测：每个模型在当时只用当时的数据，预测结果与实际对比"),
                    html.P(forecast_model.METHOD, className="note"),
                    html.P(
                        "评分：加权区间评分（WIS，Bracher 等 2021，越小越好）；相对WIS = 模型WIS ÷ 基线WIS（同一批预"
                        "测，"
                        "小于1即优于基线）；覆盖率 = 真实值落入50%、90%预测区间的比例（理想为50%、90%）。",
                        className="note",
                    ),
                    dcc.Store(
                        id="models-start", data=forecasts.published() is None
                    ),  # True: made now, in the background
                    html.P(
                        "正在回测（首次约半分钟；结果按数据版本保存，之后即时显示）…",
                        id="models-running",
                        hidden=True,
                        className="note",
                    ),
                    html.Div(id="models-status", role="status", className="note"),
                    html.Div(id="models-verdicts", className="models-verdicts"),
                    html.Div(
                        className="models-grid",
                        children=[
                            chart("models-skill"),
                            chart("models-coverage"),
                        ],
                    ),
                    html.Div(id="models-backtest-table", className="models-tables"),
                ],
            ),
            html.Section(
                className="card",
                **{"aria-label": "输入风险模型检验"},
                children=[
                    html.H2("输入风险模型检验：预期输入病例与实际病例"),
                    html.P(importation.METHOD, className="note"),
                    chart("models-importation", model_figures.importation_scatter(check), 480),
                    html.P(
                        f"结果：Spearman ρ = {stats['rho']:.2f}（p = {stats['p']:.3f}），线性 R² = {stats['r2']:.2f}，"
                        f"log(1+x) R² = {stats['r2_log']:.2f}，n = {stats['n']}。"
                        if stats.get("n")
                        else "无可检验的数据。",
                        className="models-result",
                    ),
                    html.Ul(
                        className="note",
                        children=[
                            html.Li(
                                f"{label}：ρ = {v['rho']:.2f}（p = {v['p']:.3f}），R² = {v['r2']:.2f}，"
                                f"log(1+x) R² = {v['r2_log']:.2f}"
                            )
                            for label, v in check.variants.items()
                            if v.get("n")
                        ],
                    ),
                    html.P(
                        "参照：Jia 等（Nature 2020;582:389–394）用全国约296个地级市的手机信令数据说明，武汉流出人口预"
                        "测了各地"
                        "病例分布；上列“武汉迁入量”一行即按其口径在陕西各单位的结果。陕西只有10个单位，p 值与 R² 都很"
                        "粗。",
                        className="note",
                    ),
                ],
            ),
        ],
    )
