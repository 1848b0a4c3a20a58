"""Callbacks of `/data`: preview (a dry run of the same ingest path the CLI uses), commit, batch history with
rollback and the rows each batch did not take, data quality."""

from __future__ import annotations

import base64
import logging

import pandas as pd
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from callbacks.declare import declared_callback
from data import quality
from data.ingest import kinds, pipeline
from data.ingest.reading import UPLOAD_MAX_BYTES, MissingColumns, ReadError, safe_file_name
from figures import tables
from security import audit, current_scope, may, user_name

log = logging.getLogger(__name__)
PREVIEW_ROWS = 10


def _table(frame: pd.DataFrame, limit: int = 50, klass: str = "table") -> html.Table:
    frame = frame.head(limit)
    return html.Table(
        className=klass,
        children=[
            html.Thead(html.Tr([html.Th(str(c)) for c in frame.columns])),
            html.Tbody(
                [html.Tr([html.Td("" if pd.isna(v) else str(v)) for v in row]) for row in frame.itertuples(index=False)]
            ),
        ],
    )


def _decode(contents: str) -> bytes:
    return base64.b64decode(contents.split(",", 1)[1])


def run(contents: str, filename: str, kind: str, dry_run: bool, columns: dict | None = None):
    """The ingest of an uploaded file, by the signed-in user and within their region; a file that cannot be read
    comes back as one sentence, never a trace (and a file missing a column, with the form to map it)."""
    filename = safe_file_name(filename)  # a name, never a path
    size = len(contents or "") * 3 // 4  # base64: the file's size, known before anything is decoded or parsed
    if size > UPLOAD_MAX_BYTES:
        return None, (
            f"{filename}：文件约 {size / 1024 / 1024:,.0f} MB，超过上传上限 {UPLOAD_MAX_BYTES // 1024 // 1024} MB，"
            "未做任何改动；请分批上传，或由管理员用命令行 flask ingest 导入。"
        )
    try:
        return pipeline.ingest(
            _decode(contents),
            filename,
            None if kind == "auto" else kind,
            dry_run=dry_run,
            user=user_name(),
            scope=current_scope(),
            columns=columns or None,
        ), None
    except MissingColumns as exc:
        return None, [
            html.P(f"{exc} 未做任何改动。", className="error", role="alert"),
            mapping_form(exc.headers, kind, columns),
        ]
    except ReadError as exc:
        return None, f"{exc} 未做任何改动。"
    except Exception:
        log.exception("upload of %s failed", filename)
        return None, f"{filename}：处理时发生内部错误，未做任何改动；详情已写入日志，请联系管理员。"


def mapping_form(headers: list[str], kind: str, given: dict | None) -> html.Div:
    """列对应: each field of the kind -> one of the file's columns (remembered for files with the same header)."""
    if not headers:
        return html.P("文件中找不到像表头的一行（至少两个非空单元格），无法指定列对应。", className="note")
    if kind == "auto":
        return html.P(
            "请先在“文件类型”中选择此文件的类型，再为各字段指定对应的列。", className="note", id="colmap-need-kind"
        )
    required = set(kinds.REQUIRED[kind]) | ({"region"} if kind == "case-list" else set())
    options = [{"label": h, "value": h} for h in headers]
    rows = [
        html.Div(
            className="colmap-row",
            children=[
                html.Label(kinds.FIELD_NAMES.get(f, f) + ("（必填）" if f in required else ""), htmlFor=f"colmap-{f}"),
                dcc.Dropdown(
                    id={"type": "colmap", "field": f},
                    options=options,
                    value=(given or {}).get(f),
                    placeholder="（不对应）",
                    clearable=True,
                    className="colmap-select",
                ),
            ],
        )
        for f in kinds.FORM_FIELDS[kind]
    ]
    return html.Div(
        className="colmap",
        role="group",
        **{"aria-label": "列对应"},
        children=[
            html.H3("列对应：为每个字段选择文件中的列"),
            html.P("入库后，同一表头的文件将自动按此对应读取。", className="note"),
            *rows,
            # a pattern id: a callback's plain Input must be in the layout, and the form is not, until a file needs it
            html.Button("按此对应预检", id={"type": "colmap-apply", "index": 0}, className="small-button"),
        ],
    )


def preview(report) -> list:
    parts = [html.P(report.summary(), className="summary-line")]
    if report.notes:
        parts.append(html.Ul([html.Li(n) for n in report.notes], className="note"))
    if report.already:
        return parts
    if len(report.preview):
        parts += [html.H3(f"将入库的数据（前{PREVIEW_ROWS}行，已标准化）"), _table(report.preview, PREVIEW_ROWS)]
    if report.issues:
        parts += [html.H3(f"未入库或需注意的行（共{len(report.issues)}行）"), _table(report.issues_frame(), 50)]
    return parts


@declared_callback(
    Output("upload-preview", "children"),
    Output("upload-commit", "disabled"),
    Output("upload-issues-button", "disabled"),
    Output("upload-columns", "data"),
    Input("upload", "contents"),
    Input("upload-kind", "value"),
    Input({"type": "colmap-apply", "index": ALL}, "n_clicks"),
    State("upload", "filename"),
    State({"type": "colmap", "field": ALL}, "value"),
    prevent_initial_call=True,
    permission="upload",
)
def preview_upload(contents, kind, _apply, filename, chosen):
    if not contents:
        return no_update, True, True, None
    columns = None
    if _apply and isinstance(ctx.triggered_id, dict):  # 按此对应预检: the mapping chosen in the form's dropdowns
        if not any(_apply):  # the form was just drawn
            return no_update, no_update, no_update, no_update
        columns = {o["id"]["field"]: v for o, v in zip(ctx.states_list[1], chosen) if v}
    report, error = run(contents, filename or "upload", kind, dry_run=True, columns=columns)
    if error:
        shown = error if isinstance(error, list) else html.P(error, className="error", role="alert")
        return shown, True, True, columns
    return (
        preview(report),
        bool(report.already) or report.accepted + len(report.issues) == 0,
        not report.issues,
        columns,
    )


@declared_callback(
    Output("upload-issues-download", "data"),
    Input("upload-issues-button", "n_clicks"),
    State("upload", "contents"),
    State("upload", "filename"),
    State("upload-kind", "value"),
    State("upload-columns", "data"),
    prevent_initial_call=True,
    permission="upload",
    audit="下载预检问题行",
)
def download_preview_issues(_n, contents, filename, kind, columns=None):
    report, error = run(contents, filename or "upload", kind, dry_run=True, columns=columns)
    if error or not report.issues:
        return no_update
    return {
        "content": tables.to_csv(report.issues_frame()),
        "filename": f"问题行_{report.file_name}.csv",
        "type": "text/csv",
    }


@declared_callback(
    Output("upload-result", "children"),
    Output("batches-changed", "data", allow_duplicate=True),
    Output("upload-commit", "disabled", allow_duplicate=True),
    Input("upload-commit", "n_clicks"),
    State("upload", "contents"),
    State("upload", "filename"),
    State("upload-kind", "value"),
    State("batches-changed", "data"),
    State("upload-columns", "data"),
    prevent_initial_call=True,
    permission="upload",
)
def commit_upload(_n, contents, filename, kind, changed, columns=None):
    report, error = run(contents, filename or "upload", kind, dry_run=False, columns=columns)
    if error:
        return (error if isinstance(error, list) else html.P(error, className="error", role="alert")), no_update, True
    text = report.summary() + (f" 已存为批次 {report.batch_id}，看板将自动更新。" if report.batch_id else "")
    audit.record("upload", f"{report.file_name}：{text}")
    return html.P(text, className="ok"), (changed or 0) + 1, True


def batch_rows() -> html.Table:
    frame = quality.batches()
    kinds = {
        "cases": "每日病例",
        "case-list": "病例个案",
        "facilities": "设施",
        "flows": "人口流动",
        "migration-index": "迁徙规模指数",
        "national-cases": "全国病例",
    }
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("批次", "入库时间", "类型", "文件", "接收", "未入库", "状态", "操作人", "操作")])
    )
    body = []
    for row in frame.itertuples():
        actions = []
        if row.rows_rejected or row.kind in ("cases", "case-list", "facilities", "flows"):
            actions.append(
                html.Button("问题行", id={"type": "batch-issues", "index": int(row.id)}, className="small-button")
            )
        if row.status == "active" and row.created_by != "system" and may("rollback"):
            actions.append(
                html.Button("回滚", id={"type": "batch-rollback", "index": int(row.id)}, className="small-button")
            )
        body.append(
            html.Tr(
                className="" if row.status == "active" else "rolled-back",
                children=[
                    html.Td(str(row.id)),
                    html.Td(f"{pd.Timestamp(row.created_at):%Y-%m-%d %H:%M}"),
                    html.Td(kinds.get(row.kind, row.kind) + ("（演示数据）" if row.is_demo else "")),
                    html.Td(row.file_name),
                    html.Td(f"{row.rows_accepted:,}"),
                    html.Td(f"{row.rows_rejected:,}"),
                    html.Td("有效" if row.status == "active" else "已回滚"),
                    html.Td(row.created_by or ""),
                    html.Td(actions),
                ],
            )
        )
    return html.Table(className="table", children=[head, html.Tbody(body)])


@declared_callback(
    Output("batch-table", "children"),
    Output("quality", "children"),
    Input("batches-changed", "data"),
    permission="upload",
)
def show_batches(_changed):
    sections = [
        ("未上报（近14日；无则列出全部）", quality.missing_reports()),
        ("修订", quality.revisions()),
        ("迟报（入库晚于截至日期一天以上）", quality.late_reports()),
        ("无法识别的地区名称", quality.unresolved_names()),
        ("未定位到区县的病例（已计入上级）", quality.placed_higher()),
        ("口径与订正", quality.inconsistencies()),
    ]
    parts = []
    for title, frame in sections:
        parts.append(html.H3(f"{title}：{len(frame)} 条"))
        parts.append(_table(frame, 30) if len(frame) else html.P("无", className="note"))
    return batch_rows(), parts


@declared_callback(
    Output("batches-changed", "data", allow_duplicate=True),
    Input({"type": "batch-rollback", "index": ALL}, "n_clicks"),
    State("batches-changed", "data"),
    prevent_initial_call=True,
    permission="rollback",
)
def rollback_batch(clicks, changed):
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or []):
        return no_update
    if pipeline.rollback(ctx.triggered_id["index"], user=user_name()):
        audit.record("rollback", f"批次 {ctx.triggered_id['index']}")
    return (changed or 0) + 1


@declared_callback(
    Output("batch-issues-download", "data"),
    Input({"type": "batch-issues", "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
    permission="upload",
    audit="下载批次问题行",
)
def download_batch_issues(clicks):
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or []):
        return no_update
    batch = ctx.triggered_id["index"]
    return {
        "content": tables.to_csv(pipeline.issues_of(batch)),
        "filename": f"批次{batch}_问题行.csv",
        "type": "text/csv",
    }
