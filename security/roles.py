"""Roles, what each may do, and which route needs what: the one table the gate enforces, docs/accounts.md shows and
the tests walk through (tests/test_security.py checks docs/accounts.md's tables are these)."""

from __future__ import annotations

ROLES = {  # role -> its Chinese name
    "viewer": "只读用户",
    "wall": "大屏",
    "officer": "值班员",
    "data_admin": "数据管理员",
}
ACCOUNT_ROLES = ("viewer", "officer", "data_admin")  # roles a person signs in as; `wall` is a token, not a person

# view: the dashboard `/`; wall: the wall screen; export: CSV/XLSX downloads and the briefing pack;
# upload: `/data` (uploads, batches, issue rows) within the account's region; acknowledge: an alert on `/` (officers
# answer for them; a viewer sees the list without the button); report: `/report`, the day's figures of the account's
# region typed in, and the region's tasks answered; dispatch: a follow-up task sent to a region; rollback and admin:
# data_admin only.
PERMISSIONS = {
    "viewer": frozenset({"view", "wall"}),
    "wall": frozenset({"wall"}),
    "officer": frozenset({"view", "wall", "export", "upload", "acknowledge", "report", "dispatch"}),
    "data_admin": frozenset(
        {"view", "wall", "export", "upload", "acknowledge", "report", "dispatch", "rollback", "admin"}
    ),
}

PUBLIC = None  # a route anyone may reach, signed in or not
SIGNED_IN = "signed_in"  # any signed-in role (its callbacks are then checked one by one)

# (path, prefix?, what it is, permission needed). Order matters: the first match wins.
ROUTES = [
    ("/login", False, "登录页", PUBLIC),
    ("/health", False, "健康检查", PUBLIC),
    ("/api/v1/", True, "公开数据接口（小数字按规则处理）", PUBLIC),
    ("/assets/", True, "样式与边界文件", PUBLIC),
    ("/_favicon.ico", False, "网站图标", PUBLIC),
    ("/logout", False, "退出（POST）", SIGNED_IN),
    ("/", False, "态势总览", "view"),
    ("/wall", False, "大屏", "wall"),
    ("/models", False, "模型评估（预测回测、输入风险检验）", "view"),
    ("/report", False, "直报（本人地区每日数字）与任务处理", "report"),
    ("/data", False, "数据管理（上传限本人地区）", "upload"),
    ("/admin", False, "用户、大屏令牌与审计日志", "admin"),
    ("/_dash-", True, "页面的脚本与回调（每个回调再按下表检查）", SIGNED_IN),
]
OTHER_PAGES = "view"  # any other path is a Dash page (or its 404): dashboard readers only

# Every server callback declares what calling it needs where it is defined (``callbacks/declare.py``:
# ``@declared_callback(..., permission=..., audit=...)``), so a new or renamed callback carries its permission with it.
# A callback without a declaration is refused to everyone (and logged): nothing falls back to a default. The registry
# the gate reads, generated from those declarations, by "module.function": (permission, audit label or None).
DECLARED: dict[str, tuple[str, str | None]] = {}
UNDECLARED = "undeclared"  # the permission of an undeclared callback: no role has it


def declare(key: str, permission: str, audit: str | None = None) -> None:
    """Record what calling the callback ``key`` ("module.function") needs; ``audit`` names an export, written to the
    audit log at each call (callbacks that hand data out of the system)."""
    if permission not in ACTIONS:
        raise ValueError(f"unknown permission {permission!r}")
    known = DECLARED.get(key)
    if known is not None and known != (permission, audit):
        raise ValueError(f"{key} declared twice: {known} and {(permission, audit)}")
    DECLARED[key] = (permission, audit)


def audited() -> dict[str, str]:
    """The callbacks whose every call is written to the audit log, with their label: the exports."""
    return {key: label for key, (_permission, label) in DECLARED.items() if label}


def route_permission(path: str) -> str | None:
    for route, prefix, _what, permission in ROUTES:
        if path == route or (prefix and path.startswith(route)):
            return permission
    return OTHER_PAGES


def callback_permission(module: str | None, name: str | None) -> tuple[str, str | None]:
    """(permission, audit label or None) of a callback, UNDECLARED for one that declared none."""
    return DECLARED.get(f"{module}.{name}", (UNDECLARED, None))


def allowed(role: str | None, permission: str | None) -> bool:
    """May ``role`` (None: anonymous) use something that needs ``permission``?"""
    if permission is PUBLIC:
        return True
    if role is None:
        return False
    return permission == SIGNED_IN or permission in PERMISSIONS[role]


def access_table() -> list[list[str]]:
    """Route × role, as docs/accounts.md shows it: a header row, then one row a route."""
    header = ["路径 · path", "内容", "匿名"] + [f"{name} `{role}`" for role, name in ROLES.items()]
    rows = [header]
    for route, prefix, what, permission in ROUTES:
        cells = [f"`{route}{'…' if prefix else ''}`", what, "✓" if allowed(None, permission) else "✗"]
        cells += ["✓" if allowed(role, permission) else "✗" for role in ROLES]
        rows.append(cells)
    return rows


ACTIONS = {
    "view": "看板 `/` 的全部视图与筛选",
    "wall": "大屏 `/wall` 的数据",
    "export": "导出 CSV/XLSX、汇报材料",
    "upload": "上传（预检、入库）、批次与问题行、数据质量",
    "acknowledge": "确认预警（记录确认人与时间）",
    "report": "直报本人地区每日数字、处理派给本地区的任务",
    "dispatch": "把预警或地区派为任务",
    "rollback": "回滚批次",
    "admin": "用户、大屏令牌、审计日志",
}


def permission_table() -> list[list[str]]:
    """What each role may do through the pages' callbacks (the gate checks each callback's declared permission)."""
    rows = [["操作 · permission", "内容", "匿名"] + [f"{name} `{role}`" for role, name in ROLES.items()]]
    for permission, what in ACTIONS.items():
        rows.append([f"`{permission}`", what, "✗"] + ["✓" if allowed(role, permission) else "✗" for role in ROLES])
    return rows


def _markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def access_table_markdown() -> str:
    return _markdown(access_table())


def permission_table_markdown() -> str:
    return _markdown(permission_table())
