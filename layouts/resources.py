"""The 资源保障 panel of `/`: fever-clinic coverage at a chosen straight-line distance and supply adequacy (clinic
load, masks, supply points) for the chosen region and its parts, with the flags and the numbers behind them.
Filled by callbacks/resources.py; the distance also drives the map's 未覆盖区域 layer and is kept in the URL."""

from __future__ import annotations

from dash import dcc, html

from analytics import adequacy, allocation, coverage
from layouts.accessibility import table_panel, table_toggle


def panel(state) -> html.Section:
    return html.Section(
        className="resources",
        **{"aria-label": "资源保障"},
        children=[
            # below the fold: the panel follows region and date only while on screen (assets/dashboard.js)
            dcc.Store(id="resources-visible", data=False),
            dcc.Store(id="resources-args"),  # [region, day] the panel follows (callbacks/resources.py)
            html.Div(
                className="flows-head",
                children=[
                    html.H2("资源保障：发热门诊覆盖与物资"),
                    html.Div(
                        className="distance-control",
                        children=[
                            html.Span("发热门诊可达距离（直线）", className="label", id="coverage-distance-label"),
                            dcc.RadioItems(
                                id="coverage-distance",
                                value=state.distance,
                                inline=True,
                                className="segmented",
                                options=[{"label": f"{d}公里", "value": d} for d in coverage.DISTANCES_KM],
                            ),
                        ],
                    ),
                    html.Span(
                        "演示数据",
                        id="resources-demo",
                        className="demo-badge resources-badge",
                        title="发热门诊、定点药店、物资保障点为系统按人口生成的演示数据，非真实设施",
                    ),
                ],
            ),
            html.Div(id="coverage-summary", className="card coverage-summary"),
            html.Div(
                className="card card-table adequacy-card",
                children=[
                    html.Div(
                        className="table-head",
                        children=[
                            html.H2(id="adequacy-title"),
                            html.Div(
                                className="brief-row",
                                children=[
                                    html.Button("下载 CSV", id="adequacy-download-csv", className="small-button"),
                                    html.Button("下载 XLSX", id="adequacy-download-xlsx", className="small-button"),
                                ],
                            ),
                            dcc.Download(id="adequacy-download"),
                        ],
                    ),
                    dcc.Store(id="adequacy-sort", data={"column": "covered_share", "ascending": True}),
                    html.Div(id="adequacy-table"),
                ],
            ),
            allocation_card(),
            html.Div(
                className="note",
                children=[
                    f"提示阈值：{adequacy.thresholds_text()}。{adequacy.LOAD_NOTE}。{adequacy.RATE_NOTE}，"
                    "口罩可用天数 = 开放定点药店口罩库存 ÷ 每日消耗。",
                    "覆盖：以开放发热门诊为圆心按所选直线距离作缓冲区（CGCS2000 高斯-克吕格 3度带 中央经线108°E，EPS"
                    "G:4545，"
                    f"按米计算）；{coverage.ASSUMPTION}；{coverage.DISTANCE_NOTE}。人均指标按辖区各县（区）第七次人口普查人口计。",
                ],
            ),
        ],
    )


def allocation_card() -> html.Div:
    """口罩调配建议: transfers from counties above the safe stock to counties below it (analytics/allocation.py), as a
    sentence, a table and arrows on a small map; filled by callbacks/resources.py (update_allocation)."""
    return html.Div(
        className="card allocation-card",
        role="region",
        **{"aria-label": "口罩调配建议"},
        children=[
            html.Div(
                className="table-head",
                children=[
                    html.H2(id="allocation-title", children="口罩调配建议"),
                    html.Div(
                        className="brief-row",
                        children=[
                            html.Span(
                                "演示数据",
                                id="allocation-demo",
                                className="demo-badge",
                                title="由演示设施数据（定点药店口罩库存）算出，非真实调配方案",
                            ),
                            html.Button("下载 CSV", id="allocation-download-csv", className="small-button"),
                            html.Button("下载 XLSX", id="allocation-download-xlsx", className="small-button"),
                        ],
                    ),
                    dcc.Download(id="allocation-download"),
                ],
            ),
            html.P(id="allocation-summary", className="allocation-summary"),
            html.Div(
                className="allocation-grid",
                children=[
                    # scrolls when long: focusable, so a keyboard can scroll it (WCAG 2.1.1)
                    html.Div(
                        id="allocation-table",
                        className="allocation-table-box",
                        tabIndex="0",
                        role="region",
                        **{"aria-label": "口罩调配建议表"},
                    ),
                    html.Div(
                        className="allocation-map-box",
                        children=[
                            html.Div(
                                className="chart-tools",
                                children=[
                                    html.Div(className="export-bar", children=[table_toggle("allocation-map")]),
                                    table_panel("allocation-map"),
                                ],
                            ),
                            dcc.Graph(
                                id="allocation-map",
                                config={"displaylogo": False, "locale": "zh-CN", "scrollZoom": True},
                                responsive=True,
                                style={"height": "560px"},
                            ),
                        ],
                    ),
                ],
            ),
            html.Div(
                className="note",
                children=[
                    f"安全库存：口罩可用天数{allocation.SAFE_DAYS:g}天（与上表提示阈值相同）。低于{allocation.SAFE_DAYS:g}天的县（区）"
                    f"需补足到{allocation.SAFE_DAYS:g}天，高于的县（区）只调出超出{allocation.SAFE_DAYS:g}天用量的部分；"
                    f"{allocation.ROUNDING_NOTE}。在所选范围（全省，或所选市（区）辖区）内按总运量（口罩数 × 距离）最"
                    "小求解"
                    "（运输问题，HiGHS 求解器）；可调出量不足时先尽量补足缺口，再求运量最小，缺口列出。"
                    f"{allocation.DISTANCE_NOTE}。{adequacy.RATE_NOTE}。仅调配口罩；发热门诊负荷无法靠调拨解决，不在此列。",
                ],
            ),
        ],
    )
