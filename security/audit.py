"""The audit log: who did what, when, from where. Append-only: this module only inserts (through data/audit.py, the
table's write) and reads, and the store's triggers refuse UPDATE and DELETE on both SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

import security
from data import audit as data_audit
from data import store

BEIJING = ZoneInfo("Asia/Shanghai")
ACTIONS = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
    "wall_login": "大屏登录",
    "upload": "上传入库",
    "rollback": "回滚批次",
    "export": "导出",
    "api_download": "接口下载",
    "user": "账号管理",
    "wall_token": "大屏令牌",
    "db_upgrade": "结构升级",
    "backup": "备份",
    "restore": "恢复",
    "task": "任务",
    "report": "直报",
}


def record(action: str, detail: str = "", user: str | None = None, role: str | None = None, eng=None) -> None:
    """One line in the audit log, by the signed-in user (or ``user``) of the current request."""
    data_audit.append(action, detail, user or security.user_name(), role or security.current_role(), eng)


def count_download(endpoint: str, eng=None) -> None:
    """One more anonymous download of ``endpoint`` today (Beijing time): a count, not a row a request."""
    eng = eng or store.engine()
    dialect = {"sqlite": sqlite_insert, "postgresql": pg_insert}[eng.dialect.name]
    table = store.download_counts
    day = dt.datetime.now(BEIJING).date()
    statement = dialect(table).values(day=day, endpoint=endpoint[:100], downloads=1)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "endpoint"], set_={"downloads": table.c.downloads + 1}
    )
    with eng.begin() as conn:
        conn.execute(statement)


def download_counts(eng=None) -> pd.DataFrame:
    """Anonymous downloads per day and endpoint, the latest days first, with Chinese headers."""
    with (eng or store.engine()).connect() as conn:
        frame = store.frame(
            conn,
            select(store.download_counts).order_by(
                store.download_counts.c.day.desc(), store.download_counts.c.endpoint
            ),
        )
    return frame.rename(columns={"day": "日期", "endpoint": "接口", "downloads": "匿名下载次数"})


def recent(limit: int = 500, eng=None) -> pd.DataFrame:
    """The latest entries first, with Chinese headers, for the admin page."""
    with (eng or store.engine()).connect() as conn:
        frame = store.frame(conn, select(store.audit_log).order_by(store.audit_log.c.id.desc()).limit(limit))
    frame["action"] = frame["action"].map(lambda a: ACTIONS.get(a, a))
    # SQLite keeps UTC without a zone, PostgreSQL with one: both shown in Beijing time
    frame["at"] = pd.to_datetime(frame["at"], utc=True).dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame.rename(
        columns={
            "id": "序号",
            "at": "时间（北京时间）",
            "user_name": "用户",
            "role": "角色",
            "action": "操作",
            "detail": "内容",
            "address": "来源地址",
        }
    )
