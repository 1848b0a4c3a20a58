"""`/report`: the day's direct report of a region (直报), typed on a phone or a desk, for officers and data admins.

One column, large fields. ``?region=ADCODE&date=YYYY-MM-DD`` preselect the region and the day (default: the
account's own region, today in Beijing). The form is checked as it is typed (callbacks/report.py, with the
decisions in data/direct_report.py); below it, the region's reports of the last 7 days and its follow-up tasks.
"""

from __future__ import annotations

import dash
from dash import dcc, html

from data import direct_report, reporting
from geo import regions
from layouts.tasks import tasks_panel
from security import current_scope

dash.register_page(__name__, path="/report", title="疫情直报 · 陕西省疫情防控态势感知看板", name="疫情直报")

# element id -> field of data/direct_report.py
COUNT_IDS = {
    "report-new-confirmed": "new_confirmed",
    "report-new-cured": "new_cured",
    "report-new-dead": "new_dead",
    "report-new-asymptomatic": "new_asymptomatic",
    "report-contacts": "contacts_under_observation",
    "report-fever-visits": "fever_clinic_visits",
    "report-mask-stock": "pharmacy_mask_stock",
    "report-correction": "correction",
}
UNITS = {"pharmacy_mask_stock": "只", "fever_clinic_visits": "人次", "contacts_under_observation": "人"}


def region_options(scope: str | None) -> list[dict]:
    out = []
    for region in direct_report.region_choices(scope):
        unit = None if region.level == "unit" else regions.unit_of(region.adcode)
        label = region.display_name if unit is None else f"　{region.name}（{unit.name}）"
        out.append({"label": label, "value": region.adcode})
    return out


def _count(element_id: str, hint: str = "") -> html.Div:
    key = COUNT_IDS[element_id]
    required = key in direct_report.REQUIRED
    label = direct_report.LABELS[key] + (f"（{UNITS[key]}）" if key in UNITS else "")
    return html.Div(
        className="report-field",
        children=[
            html.Label(
                [label, html.Span(" *", className="required", title="必填") if required else None], htmlFor=element_id
            ),
            dcc.Input(
                id=element_id,
                type="text",
                inputMode="numeric",
                autoComplete="off",
                value="",
                placeholder="0" if required else "选填",
                className="report-input",
                required=required,
                debounce=False,
            ),
            html.Div(hint, className="report-hint") if hint else None,
        ],
    )


def layout(region: str | None = None, date: str | None = None, **_query) -> html.Div:
    scope = current_scope()
    options = region_options(scope)
    codes = {o["value"] for o in options}
    chosen = region if region in codes else (scope if scope in codes else None)
    today = reporting.today()
    day = date if isinstance(date, str) and date.strip() else today.isoformat()
    return html.Div(
        className="page report-page",
        children=[
            html.Header(
                className="topbar report-topbar",
                children=[
                    html.H1("疫情直报"),
                    html.Nav(
                        className="nav", children=[dcc.Link("态势总览", href="/"), dcc.Link("数据管理", href="/data")]
                    ),
                ],
            ),
            dcc.Store(id="report-saved", data=0),
            html.Section(
                className="card report-card",
                **{"aria-label": "填报"},
                children=[
                    html.P(
                        [
                            f"填报所选日 0–24 时的数字，截止时间为{reporting.deadline_text()}。"
                            "累计数按此前累计加本日新增自动计算；同一天再次提交为修订，须说明原因。"
                        ],
                        className="note",
                    ),
                    html.Div(
                        className="report-field",
                        children=[
                            html.Label("地区", htmlFor="report-region"),
                            dcc.Dropdown(
                                id="report-region",
                                options=options,
                                value=chosen,
                                clearable=False,
                                searchable=True,
                                placeholder="请选择地区",
                                className="report-select",
                                optionHeight=44,
                                maxHeight=360,
                            ),
                        ],
                    ),
                    html.Div(
                        className="report-field",
                        children=[
                            html.Label("日期（截至该日24时）", htmlFor="report-date"),
                            dcc.Input(
                                id="report-date",
                                type="date",
                                value=day,
                                max=today.isoformat(),
                                className="report-input",
                                debounce=False,
                            ),
                        ],
                    ),
                    html.Fieldset(
                        className="report-group",
                        children=[
                            html.Legend("本日新增（必填）"),
                            _count("report-new-confirmed"),
                            _count("report-new-cured"),
                            _count("report-new-dead"),
                        ],
                    ),
                    html.Fieldset(
                        className="report-group",
                        children=[
                            html.Legend("其他（选填）"),
                            _count("report-new-asymptomatic"),
                            _count("report-contacts"),
                            _count("report-fever-visits"),
                            _count("report-mask-stock"),
                            _count(
                                "report-correction", "经核实排除或重复的确诊病例；填写后累计确诊减去此数，须填订正原因"
                            ),
                        ],
                    ),
                    html.Div(
                        id="report-revision-box",
                        hidden=True,
                        className="report-field",
                        children=[
                            html.Label("修订原因（该日已上报，本次为修订）", htmlFor="report-revision-reason"),
                            dcc.Textarea(
                                id="report-revision-reason",
                                value="",
                                className="report-text",
                                maxLength=200,
                                placeholder="如：漏报1例，经核实补报",
                            ),
                        ],
                    ),
                    html.Div(
                        id="report-correction-box",
                        hidden=True,
                        className="report-field",
                        children=[
                            html.Label("订正原因（累计数下降）", htmlFor="report-correction-reason"),
                            dcc.Textarea(
                                id="report-correction-reason",
                                value="",
                                className="report-text",
                                maxLength=200,
                                placeholder="如：1例经复核排除，订正核减",
                            ),
                        ],
                    ),
                    html.Div(id="report-check", className="report-check", role="status", **{"aria-live": "polite"}),
                    html.Button("提交直报", id="report-submit", className="report-submit", disabled=True, n_clicks=0),
                    html.Div(
                        id="report-result", className="result report-result", role="status", **{"aria-live": "polite"}
                    ),
                ],
            ),
            html.Section(
                className="card report-card",
                **{"aria-label": "近7日上报"},
                children=[
                    html.H2("近7日上报"),
                    html.Div(id="report-history", className="report-history"),
                ],
            ),
            tasks_panel(chosen),
        ],
    )
