"""`/admin` (data_admin only): accounts, wall-screen tokens and the audit log."""

from __future__ import annotations

import dash
from dash import dcc, html

from security.roles import ACCOUNT_ROLES, ROLES

dash.register_page(__name__, path="/admin", title="系统管理 · 陕西省疫情防控态势感知看板", name="系统管理")


def layout(**_query) -> html.Div:
    return html.Div(
        className="page data-page",
        children=[
            html.Header(
                className="topbar",
                children=[
                    html.H1("系统管理"),
                    html.Nav(
                        className="nav",
                        children=[
                            dcc.Link("态势总览", href="/"),
                            dcc.Link("数据管理", href="/data"),
                            dcc.Link("大屏", href="/wall"),
                        ],
                    ),
                ],
            ),
            dcc.Store(id="admin-changed", data=0),
            html.Section(
                className="card",
                **{"aria-label": "用户"},
                children=[
                    html.H2("用户"),
                    html.Div(
                        className="brief-row admin-form",
                        children=[
                            dcc.Input(id="admin-new-name", placeholder="用户名", maxLength=64),
                            dcc.Dropdown(
                                id="admin-new-role",
                                options=[{"label": f"{ROLES[r]}（{r}）", "value": r} for r in ACCOUNT_ROLES],
                                value="officer",
                                clearable=False,
                                style={"width": "220px"},
                            ),
                            dcc.Input(id="admin-new-region", placeholder="地区代码（空为全省）", maxLength=6),
                            dcc.Input(id="admin-new-password", type="password", placeholder="初始密码（至少10位）"),
                            html.Button("添加用户", id="admin-add-user", className="small-button"),
                        ],
                    ),
                    html.Div(id="admin-user-result", role="status"),
                    html.Div(id="admin-users"),
                ],
            ),
            html.Section(
                className="card",
                **{"aria-label": "大屏令牌"},
                children=[
                    html.H2("大屏令牌"),
                    html.P(
                        "大屏令牌是一条只读链接：大屏打开它即登录为“大屏”角色，无需输入密码；撤销后该大屏在下一次刷新数据时退出。",
                        className="note",
                    ),
                    html.Div(
                        className="brief-row admin-form",
                        children=[
                            dcc.Input(id="admin-token-label", placeholder="大屏名称，如 省指挥中心大屏", maxLength=100),
                            html.Button("创建大屏链接", id="admin-add-token", className="small-button"),
                        ],
                    ),
                    html.Div(id="admin-token-result", role="status"),
                    html.Div(id="admin-tokens"),
                ],
            ),
            html.Section(
                className="card",
                **{"aria-label": "审计日志"},
                children=[
                    html.H2("审计日志（最近500条，只可追加）"),
                    html.Div(id="admin-audit"),
                ],
            ),
        ],
    )
