"""`/data`: data staff upload files (with a preview before anything is stored), see the batch history with the
rows each batch did not take, roll a batch back, and see the data's quality."""

from __future__ import annotations

import dash
from dash import dcc, html

from data import reporting
from data.ingest.reading import UPLOAD_MAX_BYTES

# The browser sends files up to twice the limit, so that the server can say in words why a large one is refused;
# beyond that the browser keeps it (and app.py's MAX_CONTENT_LENGTH stops any other request that large).
UPLOAD_BROWSER_MAX = 2 * UPLOAD_MAX_BYTES

dash.register_page(__name__, path="/data", title="数据管理 · 陕西省疫情防控态势感知看板", name="数据管理")

KINDS = [
    {"label": "自动判断", "value": "auto"},
    {"label": "每日病例（cases）", "value": "cases"},
    {"label": "病例个案（case-list）", "value": "case-list"},
    {"label": "设施（facilities）", "value": "facilities"},
    {"label": "人口流动（flows）", "value": "flows"},
]


def layout(**_query) -> html.Div:
    return html.Div(
        className="page data-page",
        children=[
            html.Header(
                className="topbar",
                children=[
                    html.H1("数据管理"),
                    html.Nav(
                        className="nav", children=[dcc.Link("态势总览", href="/"), dcc.Link("大屏", href="/wall")]
                    ),
                ],
            ),
            html.Section(
                className="card upload-card",
                **{"aria-label": "上传数据"},
                children=[
                    html.H2("上传数据文件"),
                    html.P(
                        "支持 CSV（UTF-8 或 GBK）与 Excel（.xlsx）；可带标题行、合计行；地区名称自动标准化。"
                        "先预检，确认无误后再入库；同一文件不会重复入库。",
                        className="note",
                    ),
                    html.Div(
                        className="upload-row",
                        children=[
                            dcc.Upload(
                                id="upload",
                                className="upload-box",
                                max_size=UPLOAD_BROWSER_MAX,
                                children=html.Div(
                                    ["将文件拖到此处，或", html.Button("选择文件", className="small-button")]
                                ),
                            ),
                            html.Div(
                                children=[
                                    html.Label("文件类型", htmlFor="upload-kind"),
                                    dcc.RadioItems(
                                        id="upload-kind",
                                        options=KINDS,
                                        value="auto",
                                        inline=True,
                                        className="segmented",
                                    ),
                                ]
                            ),
                        ],
                    ),
                    dcc.Loading(html.Div(id="upload-preview"), type="dot"),
                    dcc.Store(id="upload-columns"),  # the column mapping of the form, for the commit
                    html.Div(
                        className="brief-row",
                        children=[
                            html.Button("确认入库", id="upload-commit", className="small-button", disabled=True),
                            html.Button(
                                "下载问题行（CSV）", id="upload-issues-button", className="small-button", disabled=True
                            ),
                        ],
                    ),
                    html.Div(id="upload-result", className="result", role="status"),
                    dcc.Download(id="upload-issues-download"),
                ],
            ),
            html.Section(
                className="card board-card",
                tabIndex="0",
                **{"aria-label": "报送看板"},
                children=[  # callbacks/report.py
                    html.Div(
                        className="table-head",
                        children=[
                            html.H2("报送看板：各市（区）日报"),
                            html.Div(
                                children=[
                                    html.Label("日期 ", htmlFor="board-date"),
                                    dcc.Input(
                                        id="board-date",
                                        type="date",
                                        className="board-date",
                                        value=str(_query.get("date") or reporting.due_day()),  # ?date=
                                        max=reporting.today().isoformat(),
                                    ),
                                ]
                            ),
                        ],
                    ),
                    html.Div(id="reporting-board"),
                ],
            ),
            # the cards below scroll sideways when their tables are wide: focusable, so a keyboard can scroll them too
            html.Section(
                className="card",
                tabIndex="0",
                **{"aria-label": "批次记录"},
                children=[
                    html.H2("批次记录"),
                    html.Div(id="batch-table"),
                    dcc.Download(id="batch-issues-download"),
                    dcc.Store(id="batches-changed", data=0),
                ],
            ),
            html.Section(
                className="card",
                tabIndex="0",
                **{"aria-label": "数据质量"},
                children=[
                    html.H2("数据质量"),
                    html.Div(id="quality"),
                ],
            ),
        ],
    )
