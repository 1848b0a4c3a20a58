"""Callbacks of `/models`: the backtest report, made in a background process the first time a data version is
shown (about half a minute on two cores) and read from its file after that (data/forecasts.py)."""

from __future__ import annotations

from dash import Input, Output, html

from analytics import forecast as forecast_model
from callbacks.declare import declared_callback
from data import forecasts
from figures import models as model_figures

SHOWN_HORIZONS = (1, 3, 7, 14)


def backtest_table(rows: list[dict], caption: str) -> html.Table:
    head = ["模型", "预测天数", "WIS", "相对WIS", "50%区间覆盖", "90%区间覆盖", "预测数"]
    body = [
        html.Tr(
            [
                html.Td(forecast_model.MODEL_NAMES[r["model"]]),
                html.Td(r["horizon"]),
                html.Td(f"{r['wis']:.2f}"),
                html.Td(
                    f"{r['relative_wis']:.2f}",
                    className="worse" if r["relative_wis"] > 1 else "better" if r["relative_wis"] < 1 else None,
                ),
                html.Td(f"{r['coverage_50']:.0%}"),
                html.Td(f"{r['coverage_90']:.0%}"),
                html.Td(r["forecasts"]),
            ]
        )
        for r in sorted(rows, key=lambda r: (forecast_model.MODELS.index(r["model"]), r["horizon"]))
        if r["horizon"] in SHOWN_HORIZONS
    ]
    return html.Table(
        className="table models-table",
        children=[html.Caption(caption), html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
    )


def report_views(report: dict):
    """Status, verdicts, the two charts and the tables of a backtest report."""
    if not report["by_horizon"]:
        return "暂无可回测的数据。", [], {}, {}, []
    rows = report["province_by_horizon"] or report["by_horizon"]
    span = (
        f"起报日 {report['first_origin']} 至 {report['last_origin']}（{report['origins']} 个），"
        f"全省与 {report['regions'] - 1} 个报告单位，每次预测 1–14 天。"
    )
    return (
        span,
        [html.P(v) for v in report["verdicts"]],
        model_figures.skill_chart(rows, "全省：相对WIS（基线 = 1）"),
        model_figures.coverage_chart(rows, "全省：预测区间覆盖率（校准）"),
        [
            backtest_table(report["province_by_horizon"], "全省"),
            backtest_table(report["by_horizon"], "全省与各报告单位合计"),
        ],
    )


@declared_callback(
    Output("models-status", "children"),
    Output("models-verdicts", "children"),
    Output("models-skill", "figure"),
    Output("models-coverage", "figure"),
    Output("models-backtest-table", "children"),
    Input("models-start", "data"),
    background=True,
    running=[(Output("models-running", "hidden"), False, True)],
    permission="view",
)
def show_backtest(_start):
    return report_views(forecasts.evaluation())
