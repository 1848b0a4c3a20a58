"""The strip that says who is signed in (name, role, region, 退出), or that this is the local demo. It is fixed to
a corner, so no page's layout (the wall's exact 1920x1080) moves for it."""

from __future__ import annotations

import flask
from dash import dcc, html
from flask_wtf.csrf import generate_csrf

from security import roles, web
from security.accounts import DEMO


def banner() -> html.Div:
    if not flask.has_request_context():
        return html.Div(id="account-banner", hidden=True)
    account = web.current()
    if account is DEMO:
        return html.Div(
            id="account-banner",
            className="account-banner demo",
            role="status",
            children=[html.B("本地演示模式"), "：未配置账号，您以演示值班员身份使用（仅本机可访问）。"],
        )
    if account is None or account.role == "wall":
        return html.Div(id="account-banner", hidden=True)
    links = [dcc.Link("管理", href="/admin")] if roles.allowed(account.role, "admin") else []
    return html.Div(
        id="account-banner",
        className="account-banner",
        children=[
            html.Span(f"{account.name} · {roles.ROLES[account.role]} · {account.scope_name}"),
            *links,
            html.Form(
                action="/logout",
                method="post",
                className="logout-form",
                children=[
                    dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
                    html.Button("退出", type="submit", className="small-button"),
                ],
            ),
        ],
    )
