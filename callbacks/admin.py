"""Callbacks of `/admin`: add and disable users, create and revoke wall tokens, read the audit log. Every action is
written to the audit log; the gate lets only data_admin call these (security/roles.py)."""

from __future__ import annotations

import pandas as pd
from dash import ALL, Input, Output, State, ctx, html, no_update
from flask import request

from callbacks.data_page import _table
from callbacks.declare import declared_callback
from security import accounts, audit, user_name
from security.roles import ROLES


def _when(value) -> str:
    """Beijing time, as the audit log shows it (SQLite keeps UTC without a zone)."""
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return f"{stamp.tz_convert('Asia/Shanghai'):%Y-%m-%d %H:%M}"


def users_table() -> html.Table:
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("序号", "用户名", "角色", "地区范围", "状态", "创建时间", "创建人", "操作")])
    )
    body = [
        html.Tr(
            [
                html.Td(str(u["id"])),
                html.Td(u["username"]),
                html.Td(ROLES[u["role"]]),
                html.Td(u["region_adcode"] or "全省"),
                html.Td("启用" if u["active"] else "停用"),
                html.Td(_when(u["created_at"])),
                html.Td(u["created_by"] or ""),
                html.Td(
                    html.Button(
                        "停用" if u["active"] else "启用",
                        className="small-button",
                        id={"type": "admin-toggle-user", "index": u["id"]},
                    )
                ),
            ]
        )
        for u in accounts.users()
    ]
    return html.Table(className="table", children=[head, html.Tbody(body)])


def tokens_table() -> html.Table:
    head = html.Thead(html.Tr([html.Th(h) for h in ("序号", "大屏", "创建时间", "创建人", "状态", "操作")]))
    body = [
        html.Tr(
            [
                html.Td(str(t["id"])),
                html.Td(t["label"]),
                html.Td(_when(t["created_at"])),
                html.Td(t["created_by"] or ""),
                html.Td(f"已撤销（{_when(t['revoked_at'])}）" if t["revoked_at"] else "有效"),
                html.Td(
                    []
                    if t["revoked_at"]
                    else html.Button(
                        "撤销", className="small-button", id={"type": "admin-revoke-token", "index": t["id"]}
                    )
                ),
            ]
        )
        for t in accounts.wall_tokens()
    ]
    return html.Table(className="table", children=[head, html.Tbody(body)])


@declared_callback(
    Output("admin-users", "children"),
    Output("admin-tokens", "children"),
    Output("admin-audit", "children"),
    Input("admin-changed", "data"),
    permission="admin",
)
def show_admin(_changed):
    log, counts = audit.recent(), audit.download_counts()
    return (
        users_table(),
        tokens_table(),
        [
            _table(log, 500) if len(log) else html.P("暂无记录", className="note"),
            html.H3("开放接口的匿名 CSV 下载（按日、按接口计数，不逐条记录）"),
            _table(counts, 200) if len(counts) else html.P("暂无匿名下载", className="note"),
        ],
    )


@declared_callback(
    Output("admin-user-result", "children"),
    Output("admin-changed", "data", allow_duplicate=True),
    Input("admin-add-user", "n_clicks"),
    State("admin-new-name", "value"),
    State("admin-new-role", "value"),
    State("admin-new-region", "value"),
    State("admin-new-password", "value"),
    State("admin-changed", "data"),
    prevent_initial_call=True,
    permission="admin",
)
def add_user(_n, name, role, region, password, changed):
    try:
        accounts.create_user(name or "", password or "", role, (region or "").strip() or None, created_by=user_name())
    except accounts.AccountError as exc:
        return html.P(str(exc), className="error", role="alert"), no_update
    audit.record("user", f"创建用户 {name}（{role}，范围 {region or '全省'}）")
    return html.P(f"已创建 {name}。", className="ok"), (changed or 0) + 1


@declared_callback(
    Output("admin-changed", "data", allow_duplicate=True),
    Input({"type": "admin-toggle-user", "index": ALL}, "n_clicks"),
    State("admin-changed", "data"),
    prevent_initial_call=True,
    permission="admin",
)
def toggle_user(clicks, changed):
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or []):
        return no_update
    user = next((u for u in accounts.users() if u["id"] == ctx.triggered_id["index"]), None)
    if user is None:
        return no_update
    accounts.set_active(user["id"], not user["active"])
    audit.record("user", f"{'停用' if user['active'] else '启用'}用户 {user['username']}")
    return (changed or 0) + 1


@declared_callback(
    Output("admin-token-result", "children"),
    Output("admin-changed", "data", allow_duplicate=True),
    Input("admin-add-token", "n_clicks"),
    State("admin-token-label", "value"),
    State("admin-changed", "data"),
    prevent_initial_call=True,
    permission="admin",
)
def add_token(_n, label, changed):
    try:
        token_id, token = accounts.create_wall_token(label or "", created_by=user_name())
    except accounts.AccountError as exc:
        return html.P(str(exc), className="error", role="alert"), no_update
    audit.record("wall_token", f"创建大屏令牌 {token_id}（{label}）")
    link = f"{request.host_url.rstrip('/')}/wall?token={token}"
    return html.Div(
        className="ok",
        children=[
            html.P(f"大屏令牌 {token_id}（{label}）已创建。链接只显示这一次，请在大屏上打开："),
            html.Code(link, id="admin-token-link"),
        ],
    ), (changed or 0) + 1


@declared_callback(
    Output("admin-changed", "data", allow_duplicate=True),
    Input({"type": "admin-revoke-token", "index": ALL}, "n_clicks"),
    State("admin-changed", "data"),
    prevent_initial_call=True,
    permission="admin",
)
def revoke_token(clicks, changed):
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or []):
        return no_update
    if accounts.revoke_wall_token(ctx.triggered_id["index"]):
        audit.record("wall_token", f"撤销大屏令牌 {ctx.triggered_id['index']}")
    return (changed or 0) + 1
