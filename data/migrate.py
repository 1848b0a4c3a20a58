"""Schema versions of the store, kept by Alembic (the scripts are in ``data/migrations/versions``, one per change).

- An empty store is brought to the newest schema (``head``) on first use, by the same scripts an upgrade runs, so
  what the tests create is what an upgraded office store has.
- A store of the 2026-12-04 release has its tables and no version table: it is stamped with the first revision
  (``0001``, the schema of that release) and then upgraded, never rebuilt.
- The app refuses a store that is behind (or ahead of) its code with one sentence saying what to run; only
  ``flask --app app:server db upgrade`` (``make run`` calls it) changes the schema.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

SCRIPTS = Path(__file__).resolve().parent / "migrations"
logging.getLogger("alembic").setLevel(logging.WARNING)  # its INFO lines repeat what upgrade() says in Chinese
BASELINE = "0001"
# The tables of the 2026-12-04 release: a store without a version table must have all of them to be stamped.
RELEASE_TABLES = frozenset(
    {
        "batches",
        "case_reports",
        "facilities",
        "flows",
        "case_list",
        "ingest_rows",
        "national_cases",
        "migration_index",
        "alerts",
        "users",
        "wall_tokens",
        "audit_log",
    }
)
UPGRADE_COMMAND = "flask --app app:server db upgrade"
_PG_LOCK = 610000  # the advisory lock workers starting together take, so one of them migrates


class StoreNotCurrent(RuntimeError):
    """The store's schema is not the one this code needs: one sentence for the operator, saying what to do."""


def _config(conn=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = conn
    return cfg


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    return scripts().get_current_head()


def current(conn) -> str | None:
    """The store's revision; None for an empty store or one of the release before migrations."""
    return MigrationContext.configure(conn).get_current_revision()


def state(eng: Engine) -> tuple[str, str | None]:
    """("empty" | "unversioned" | "current" | "behind" | "ahead" | "foreign", the store's revision)."""
    with eng.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        revision = current(conn) if "alembic_version" in tables else None
    if revision is None:
        tables.discard("alembic_version")
        if not tables:
            return "empty", None
        return ("unversioned" if RELEASE_TABLES <= tables else "foreign"), None
    if revision == head():
        return "current", revision
    known = {s.revision for s in scripts().walk_revisions()}
    return ("behind" if revision in known else "ahead"), revision


def check(eng: Engine) -> None:
    """Create an empty store at the newest schema; refuse one that is not current, in one sentence."""
    what, revision = state(eng)
    if what == "current":
        return
    if what == "empty":
        upgrade(eng)
        return
    where = _describe(eng)
    if what in ("behind", "unversioned"):
        raise StoreNotCurrent(
            f"数据库 {where} 的结构版本是 {revision or '2026-12-04 版（未编号）'}，本程序需要 {head()}："
            f"请先备份，再运行 {UPGRADE_COMMAND}（make run 会自动升级内置数据库）。"
        )
    if what == "ahead":
        raise StoreNotCurrent(
            f"数据库 {where} 的结构版本 {revision} 比本程序新（本程序最高 {head()}）："
            "请使用更新版本的看板，或从旧版本的备份恢复。"
        )
    raise StoreNotCurrent(
        f"数据库 {where} 中已有其他表，不是本看板的存储：请在 DATABASE_URL 中指定一个空的或本看板的数据库。"
    )


def upgrade(eng: Engine, say=None) -> list[str]:
    """Bring the store to the newest schema; returns the revisions applied (a release store is stamped first).
    One process at a time: the others wait, then find nothing left to do."""
    say = say or (lambda _message: None)
    with _exclusive(eng), eng.connect() as conn:
        what, revision = state(eng)
        if what == "foreign":
            raise StoreNotCurrent(f"数据库 {_describe(eng)} 中已有其他表，不是本看板的存储，未做任何改动。")
        if what == "ahead":
            raise StoreNotCurrent(f"数据库的结构版本 {revision} 比本程序新（本程序最高 {head()}），未做任何改动。")
        cfg = _config(conn)
        done = []
        if what == "unversioned":
            command.stamp(cfg, BASELINE)
            conn.commit()
            say(f"已识别 2026-12-04 版的数据库，标记为结构版本 {BASELINE}（数据不动）。")
            revision = BASELINE
            done.append(f"{BASELINE}（标记）")
        pending = [s.revision for s in reversed(list(scripts().iterate_revisions(head(), revision)))]
        for step in pending:
            say(f"升级到 {step}：{scripts().get_revision(step).doc.splitlines()[0]}")
        command.upgrade(cfg, "head")
        conn.commit()
        return done + pending


def history() -> list[tuple[str, str]]:
    """(revision, first line of its description), oldest first."""
    return [(s.revision, s.doc.splitlines()[0]) for s in reversed(list(scripts().walk_revisions()))]


def _describe(eng: Engine) -> str:
    return eng.url.render_as_string(hide_password=True)


@contextlib.contextmanager
def _exclusive(eng: Engine):
    """PostgreSQL: a session advisory lock; a SQLite file: an flock on a lock file beside it."""
    if eng.dialect.name == "postgresql":
        with eng.connect() as conn:
            conn.execute(text(f"SELECT pg_advisory_lock({_PG_LOCK})"))
            try:
                yield
            finally:
                conn.execute(text(f"SELECT pg_advisory_unlock({_PG_LOCK})"))
        return
    database = eng.url.database if eng.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
