"""Backing the store up and bringing it back, on both backends.

- SQLite: the online backup API (a consistent copy while the app keeps serving), checked with ``PRAGMA
  integrity_check``; the backup is itself a SQLite file.
- PostgreSQL: ``pg_dump --format=custom`` (consistent by its own snapshot), checked with ``pg_restore --list``;
  restored with ``pg_restore --single-transaction``, so a failed restore leaves the target as it was.

A restore goes into an empty store (or replaces one with ``replace=True``) and then upgrades the restored schema if
it is older than the code, so a backup of an earlier release comes back usable.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, make_url, text
from sqlalchemy.engine import Engine

from data import migrate

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """Why a backup or restore could not be done, in one sentence; nothing was changed."""


@dataclass(frozen=True)
class Done:
    path: Path
    size_bytes: int
    seconds: float
    revision: str | None  # the schema revision in the backup (after a restore: of the store now)


def backup(eng: Engine, out: Path) -> Done:
    """Write a consistent copy of the store to ``out`` (written beside it first, moved in place when complete)."""
    t0 = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.unlink(missing_ok=True)
    with eng.connect() as conn:
        revision = migrate.current(conn)
    try:
        if eng.dialect.name == "sqlite":
            _sqlite_backup(_sqlite_path(eng), partial)
        elif eng.dialect.name == "postgresql":
            _run(
                ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}", _libpq(eng)],
                "pg_dump",
            )
            _run(["pg_restore", "--list", str(partial)], "pg_restore --list")  # readable before it counts
        else:
            raise BackupError(f"不支持备份 {eng.dialect.name} 数据库：仅支持 SQLite 和 PostgreSQL。")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return Done(out, out.stat().st_size, time.perf_counter() - t0, revision)


def restore(eng: Engine, source: Path, replace: bool = False, say=None) -> Done:
    """Bring the store back from ``source``; then upgrade its schema if it is behind the code."""
    t0 = time.perf_counter()
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"找不到备份文件 {source}。")
    with open(source, "rb") as f:
        magic = f.read(16)
    kind = "sqlite" if magic.startswith(SQLITE_MAGIC) else "postgresql" if magic.startswith(PG_MAGIC) else None
    if kind is None:
        raise BackupError(f"{source.name} 不是本看板的备份文件（既不是 SQLite 数据库，也不是 pg_dump 自定义格式）。")
    if kind != eng.dialect.name:
        raise BackupError(
            f"{source.name} 是 {_NAMES[kind]} 的备份，当前数据库是 {_NAMES.get(eng.dialect.name, eng.dialect.name)}："
            "请恢复到同类数据库（跨库迁移请用开放数据导出和导入）。"
        )
    if _has_tables(eng) and not replace:
        raise BackupError(
            f"目标数据库 {eng.url.render_as_string(hide_password=True)} 不是空的：请指定一个空的 DATABASE_URL，"
            "或确认覆盖后加 --replace（请先停止看板）。"
        )
    if kind == "sqlite":
        _sqlite_restore(source, _sqlite_path(eng))
    else:
        _pg_restore(eng, source, replace)
    eng.dispose()  # pooled connections may still see the store as it was
    applied = migrate.upgrade(eng, say=say)
    with eng.connect() as conn:
        revision = migrate.current(conn)
    if applied and say:
        say(f"备份的结构版本较旧，已升级到 {revision}。")
    return Done(source, source.stat().st_size, time.perf_counter() - t0, revision)


_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _sqlite_path(eng: Engine) -> Path:
    database = eng.url.database
    if not database or database == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份或恢复：请在 DATABASE_URL 中指定文件。")
    return Path(database)


def _sqlite_backup(source: Path, target: Path) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=4096)  # in steps, so writers are not held up for the whole copy
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"备份文件 {target} 校验未通过（integrity_check），已丢弃。")
    finally:
        dst.close()
        src.close()


def _sqlite_restore(source: Path, target: Path) -> None:
    check = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{source.name} 已损坏（integrity_check 未通过），未做任何改动。")
        tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:  # truncated or overwritten: SQLite cannot even read its pages
        raise BackupError(f"{source.name} 已损坏（{exc}），未做任何改动。") from None
    finally:
        check.close()
    if not migrate.RELEASE_TABLES <= tables:
        raise BackupError(f"{source.name} 是 SQLite 数据库，但不是本看板的存储，未做任何改动。")
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # page by page into the target, replacing whatever it held, in one transaction
    finally:
        dst.close()
        src.close()


def _pg_restore(eng: Engine, source: Path, replace: bool) -> None:
    listing = _run(["pg_restore", "--list", str(source)], "pg_restore --list")
    if " TABLE public batches " not in listing:
        raise BackupError(f"{source.name} 是 PostgreSQL 备份，但不是本看板的存储，未做任何改动。")
    # One transaction, ended at the first error: a damaged dump (or a failed replacement) changes nothing. The
    # replacement drops each object of the dump before recreating it (--clean), inside that transaction.
    clean = ["--clean", "--if-exists"] if replace else []
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            *clean,
            f"--dbname={_libpq(eng)}",
            str(source),
        ],
        "pg_restore",
    )


def _has_tables(eng: Engine) -> bool:
    with eng.connect() as conn:
        return bool(inspect(conn).get_table_names())


def _libpq(eng: Engine) -> str:
    """The store's URL as libpq (pg_dump, psql) reads it."""
    return make_url(eng.url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(args: list[str], name: str) -> str:
    if shutil.which(args[0]) is None:
        raise BackupError(
            f"找不到 {args[0]}：PostgreSQL 的备份与恢复需要客户端工具（Debian：apt-get install postgresql-client）。"
        )
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["(无输出)"])[-1]
        raise BackupError(f"{name} 失败：{detail}；目标未做改动。")
    return done.stdout


def table_counts(eng: Engine) -> dict[str, int]:
    """Rows per table: what a backup, a restore or an upgrade must keep."""
    with eng.connect() as conn:
        names = sorted(set(inspect(conn).get_table_names()) - {"alembic_version"})
        return {n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}
