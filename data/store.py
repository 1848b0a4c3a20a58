"""The store: one schema on SQLite (the embedded default) or any database SQLAlchemy speaks (``DATABASE_URL``).

Every row carries the batch it came in with, so a figure traces back to its file, and a batch can be revised or
rolled back as a whole. The tables below are the newest schema; ``data/migrations`` brings every store to it, one
revision per change (a change here needs a revision there: tests/test_migrations.py compares them). Tables:

- ``batches``          one per ingested file (or shipped data set): kind, file name, checksum, counts, status
- ``case_reports``     daily cumulative counts per region and category, as reported (not derived)
- ``facilities``       fever clinics, pharmacies, supply points: point, county, kind-specific attributes
- ``flows``            population flow shares between a Shaanxi region and a counterpart, per day and direction
- ``migration_index``  the flow scale index per region, day and direction
- ``case_list``        one row a case (from case-list files); personal fields are never stored as written
- ``column_maps``      column mappings given for files whose headers no synonym knows, by header
- ``ingest_rows``      rows of ingested files that were rejected, unresolved, duplicates or revisions, as written
- ``national_cases``   cumulative cases of China's prefecture-level units, for the importation risk of flows
- ``alerts``           alerts raised by the rules (analytics/alert_rules.yaml): when first raised, who acknowledged
- ``users``            staff accounts: role, optional region scope, a scrypt password hash (security/accounts.py)
- ``wall_tokens``      read-only display tokens for wall screens (only their SHA-256 is stored), revocable
- ``sessions``         sign-ins (only a SHA-256 of the cookie's token is stored), ended by logout
- ``download_counts``  anonymous CSV downloads of the open API, counted per day and endpoint
- ``audit_log``        who did what when: logins, uploads, rollbacks, exports, API downloads; append-only
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import math
import os
import threading
import time
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    case,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine

from data import migrate

ROOT = Path(__file__).resolve().parent.parent

# Where this process keeps its store and files (the instance folder: the default SQLite file, background jobs, the
# pseudonymisation key, upload reports, model results): set by the app factory from its configuration, else from
# the environment (DATABASE_URL, INSTANCE_PATH), else the repository's instance/.
_configured: dict[str, str | None] = {"database_url": None, "instance_path": None}


def configure(database_url: str | None = None, instance_path: str | Path | None = None) -> None:
    _configured.update(database_url=database_url or None, instance_path=str(instance_path) if instance_path else None)


def instance_path() -> Path:
    return Path(_configured["instance_path"] or os.environ.get("INSTANCE_PATH") or ROOT / "instance")


metadata = MetaData()

batches = Table(
    "batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),  # cases | case-list | facilities | flows
    Column("file_name", String(255), nullable=False),
    Column("checksum", String(64), nullable=False),  # sha256 of the file's bytes
    Column("size_bytes", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", String(64)),
    Column("rows_accepted", Integer, nullable=False, default=0),
    Column("rows_rejected", Integer, nullable=False, default=0),
    Column("status", String(20), nullable=False, default="active"),  # active | rolled_back
    Column("is_demo", Boolean, nullable=False, default=False),
    Column("source", String(500)),  # where the data comes from, shown with every figure made from it
    Column("note", String(2000)),
    Index("ix_batches_checksum", "checksum"),  # the same file twice is one batch (checked before storing)
)

case_reports = Table(
    "case_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", ForeignKey("batches.id"), nullable=False),
    Column("region_adcode", String(6), nullable=False),
    # reported: the region's own figure; imported / unassigned: the province's 境外输入 / 未公布来源 rows;
    # zone:NAME: a functional zone's figure (西咸新区, 高新区), stored under the unit it is reported under
    Column("category", String(20), nullable=False, default="reported"),
    Column("as_of_date", Date, nullable=False),  # cumulative to 24:00 of this day
    Column("confirmed_cum", Integer),
    Column("cured_cum", Integer),
    Column("dead_cum", Integer),
    Column("suspected", Integer),
    Column("source_date", Date),  # the date as written in the source, where it differs from as_of_date
    Column("source_name", String(100)),  # the region as written in the source
    Column("source_row", Integer),  # line in the source file (1 = header)
    Index("ix_case_reports_region_date", "region_adcode", "as_of_date"),
)

facilities = Table(
    "facilities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", ForeignKey("batches.id"), nullable=False),
    Column("kind", String(20), nullable=False),  # fever_clinic | pharmacy | supply_point
    Column("name", String(200), nullable=False),
    Column("address", String(300)),
    Column("county_adcode", String(6), nullable=False),
    Column("unit_adcode", String(6), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("status", String(20), nullable=False),  # open | closed
    Column("attrs", JSON, nullable=False),  # kind-specific: level/beds/daily_capacity, mask_stock, ...
    Column("is_demo", Boolean, nullable=False, default=False),
    Index("ix_facilities_kind_unit", "kind", "unit_adcode"),
)

flows = Table(
    "flows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", ForeignKey("batches.id"), nullable=False),
    Column("date", Date, nullable=False),
    Column("direction", String(3), nullable=False),  # in: counterpart -> focus; out: focus -> counterpart
    Column("focus_adcode", String(6), nullable=False),  # the Shaanxi region the shares are of
    Column("counterpart_adcode", String(6), nullable=False),
    Column("counterpart_name", String(100)),
    Column("counterpart_level", String(10), nullable=False, default="city"),  # city | province
    Column("share_pct", Float),  # % of the focus region's total move-in (or move-out) that day
    Column("volume", Float),  # an absolute or relative volume where the source gives one
    Index("ix_flows_focus_date", "focus_adcode", "date", "direction"),
    Index("ix_flows_batch_date", "batch_id", "date"),  # a batch's first and last day, without reading the table
)

case_list = Table(  # one row a case; no name, phone or address is stored, an ID number only as a keyed hash
    "case_list",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", ForeignKey("batches.id"), nullable=False),
    Column("report_date", Date, nullable=False),
    Column("region_adcode", String(6), nullable=False),  # the county; the unit or province when no county is named
    Column("zone", String(20)),  # the functional zone named in the residence (西咸新区, 高新区), if any
    Column("sex", String(2)),
    Column("age", Integer),
    Column("severity", String(20)),
    Column("detection", String(40)),
    Column("person_key", String(64)),  # HMAC-SHA256 of the ID number under the server's secret
    Column("contact_of_key", String(64)),  # the same for the case this one was a contact of
    Column("source_row", Integer),
    Index("ix_case_list_region_date", "region_adcode", "report_date"),
    Index("ix_case_list_batch_place", "batch_id", "region_adcode", "zone", "report_date"),  # counts from the index
)

ingest_rows = Table(  # every row of a file that was not stored as data, with its original content and why
    "ingest_rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", ForeignKey("batches.id"), nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("status", String(20), nullable=False),  # rejected | unresolved | duplicate | revision
    Column("reasons", String(2000), nullable=False),
    Column("candidates", String(500)),
    Column("original", JSON, nullable=False),
    Index("ix_ingest_rows_batch", "batch_id"),
)

national_cases = Table(  # prefecture-level cumulative cases across China, for the importation risk of flows
    "national_cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", ForeignKey("batches.id"), nullable=False),
    Column("as_of_date", Date, nullable=False),
    Column("adcode", String(6), nullable=False),
    Column("name", String(100)),
    Column("confirmed_cum", Integer),
    Column("cured_cum", Integer),
    Column("dead_cum", Integer),
    Index("ix_national_cases_date", "as_of_date", "adcode"),
)

migration_index = Table(
    "migration_index",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", ForeignKey("batches.id"), nullable=False),
    Column("date", Date, nullable=False),
    Column("adcode", String(6), nullable=False),
    Column("direction", String(3), nullable=False),
    Column("scale_index", Float, nullable=False),
    UniqueConstraint("batch_id", "date", "adcode", "direction", name="uq_migration_index"),
)

alerts = Table(  # one row per rule, region and day, so the time raised and the acknowledgement outlive re-evaluation
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rule_id", String(50), nullable=False),
    Column("adcode", String(6), nullable=False),
    Column("day", Date, nullable=False),  # the data day the alert is about
    Column("severity", String(4), nullable=False),
    Column("message", String(500), nullable=False),
    Column("value", Float),
    Column("raised_at", DateTime(timezone=True), nullable=False),  # when a data version first produced it (UTC)
    Column("data_version", String(50), nullable=False),  # that version
    Column("acknowledged_by", String(64)),
    Column("acknowledged_at", DateTime(timezone=True)),
    UniqueConstraint("rule_id", "adcode", "day", name="uq_alerts_rule_region_day"),
)


users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),  # werkzeug's scrypt: method$salt$hash
    Column("role", String(20), nullable=False),  # viewer | officer | data_admin (security/roles.py)
    Column("region_adcode", String(6)),  # scope: this region and its counties only; NULL = the whole province
    Column("active", Boolean, nullable=False, default=True),  # accounts are disabled, never deleted (audit refers)
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", String(64)),
)

wall_tokens = Table(
    "wall_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_sha256", String(64), nullable=False, unique=True),  # the token itself is shown once, never stored
    Column("label", String(100), nullable=False),  # which screen, e.g. 省指挥中心大屏
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", String(64)),
    Column("revoked_at", DateTime(timezone=True)),
)

column_maps = Table(  # the column mapping an officer gave for a file's header, used again for the same header
    "column_maps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("header_key", String(64), nullable=False),  # SHA-256 of the file's normalised column names
    Column("kind", String(20), nullable=False),
    Column("mapping", JSON, nullable=False),  # field -> the file's column
    Column("created_by", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("header_key", "kind", name="uq_column_maps_header_kind"),
)

sessions = Table(  # one row a sign-in; the cookie holds a random token, only its SHA-256 is stored here
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("user_id", ForeignKey("users.id")),  # a person's session, or
    Column("wall_token_id", ForeignKey("wall_tokens.id")),  # a wall screen's
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("ended_at", DateTime(timezone=True)),  # logout: the cookie, and any copy of it, no longer signs in
    Column("address", String(64)),
)

download_counts = Table(  # anonymous CSV downloads of the open API: a count per day and endpoint, not a row each
    "download_counts",
    metadata,
    Column("day", Date, primary_key=True),  # Beijing time
    Column("endpoint", String(100), primary_key=True),
    Column("downloads", Integer, nullable=False),
)

report_extras = Table(  # the optional figures of a direct report (/report), beside its case_reports row
    "report_extras",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", ForeignKey("batches.id"), nullable=False),
    Column("region_adcode", String(6), nullable=False),
    Column("as_of_date", Date, nullable=False),
    Column("new_asymptomatic", Integer),  # 新增无症状感染者
    Column("contacts_under_observation", Integer),  # 在观察密切接触者
    Column("fever_clinic_visits", Integer),  # 发热门诊就诊人次
    Column("pharmacy_mask_stock", Integer),  # 定点药店口罩库存
    Index("ix_report_extras_region_date", "region_adcode", "as_of_date"),
)

tasks = Table(  # a follow-up task for a region (from an alert or the map); its steps are in task_events
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("region_adcode", String(6), nullable=False),
    Column("title", String(200), nullable=False),
    Column("detail", String(2000)),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("alert_id", ForeignKey("alerts.id")),  # the alert it was made from, if any
    Column("status", String(20), nullable=False),  # sent | received | in_progress | done
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True)),
    Index("ix_tasks_region_status", "region_adcode", "status"),
)

task_events = Table(  # every step of a task: sent, 已接收, 处理中, 已完成, with who, when and a note
    "task_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("task_id", ForeignKey("tasks.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("note", String(1000)),
    Column("by", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_task_events_task", "task_id"),
)

audit_log = Table(  # append-only: no code path updates or deletes it, and triggers refuse both (data/migrations)
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("user_name", String(64), nullable=False),
    Column("role", String(20)),
    Column("action", String(30), nullable=False),  # login | login_failed | logout | upload | rollback | export | ...
    Column("detail", String(1000)),
    Column("address", String(64)),  # the client's address as the server saw it
    Index("ix_audit_log_at", "at"),
)


def database_url() -> str:
    return (
        _configured["database_url"]
        or os.environ.get("DATABASE_URL")
        or f"sqlite:///{instance_path() / 'dashboard.sqlite'}"
    )


@lru_cache(maxsize=4)
def engine(url: str | None = None) -> Engine:
    """One engine per URL and process. An empty store is given the newest schema on first use; a store whose schema
    is older or newer than this code is refused (``migrate.StoreNotCurrent``, one sentence saying what to run)."""
    eng = connect(url)
    migrate.check(eng)
    return eng


def connect(url: str | None = None) -> Engine:
    """An engine on the store as it is, schema unchecked: for the commands that upgrade, back up or restore it."""
    url = url or database_url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    eng = create_engine(url, future=True, pool_pre_ping=True)
    if eng.dialect.name == "sqlite":
        event.listen(eng, "connect", _sqlite_pragmas)
    _engines.append(eng)
    return eng


_engines: list[Engine] = []


def _after_fork() -> None:
    # a worker forked from a process that already connected (gunicorn --preload) must not share its connections,
    # nor wait for a lock another thread of that process held at the fork
    for eng in _engines:
        eng.dispose(close=False)
    for memo in _memos:
        memo.after_fork()
    for builds in BuildLocks.every:
        builds.after_fork()


os.register_at_fork(after_in_child=_after_fork)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers (the page) go on while an ingest writes; foreign keys keep rows tied to their batch.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def records(frame: pd.DataFrame) -> list[dict]:
    """A frame's rows as dicts of Python values, as ``DataFrame.to_dict("records")`` gives them, column by column:
    pandas boxes each value of a row on its own there (1.6 s for the shipped flows' 200k rows, here 0.3 s)."""
    columns = list(frame.columns)
    return [dict(zip(columns, values)) for values in zip(*(frame[c].tolist() for c in columns))]


def bulk_insert(conn, table: Table, rows: list[dict]) -> None:
    """Insert many rows. Large batches go straight to the driver's executemany with plain tuples: SQLAlchemy's
    per-row parameter handling costs more than the database itself at a million rows."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        rows = _portable(rows)  # SQLite stores NaN as NULL by itself; PostgreSQL would store NaN or refuse it
    if len(rows) < 5000:
        conn.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    statement = table.insert().compile(dialect=conn.dialect, column_keys=columns)
    # the driver gets no help from SQLAlchemy here: JSON columns are serialised as SQLAlchemy would do it
    # (SQLAlchemy's own serialiser for this dialect, as an insert would use; it has no public accessor)
    json_types = {c: table.c[c].type for c in columns if isinstance(table.c[c].type, JSON)}
    process = {
        c: p
        for c, json_type in json_types.items()
        if (p := json_type._cached_bind_processor(conn.dialect)) is not None  # noqa: SLF001  (see above)
    }
    if process:
        rows = [{**row, **{c: p(row[c]) for c, p in process.items()}} for row in rows]
    cursor = conn.connection.driver_connection.cursor()
    if statement.positional:  # SQLite's "?" placeholders take tuples in the statement's column order
        cursor.executemany(str(statement), [tuple(row[c] for c in statement.positiontup) for row in rows])
    else:  # named placeholders (PostgreSQL drivers) take the dicts as they are
        cursor.executemany(str(statement), rows)
    cursor.close()


def _portable(rows: list[dict]) -> list[dict]:
    """Missing numbers as NULL and numpy scalars as Python values, which every driver takes."""

    def clean(value):
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
        return value

    return [{k: clean(v) for k, v in row.items()} for row in rows]


def frame(conn, query) -> pd.DataFrame:
    """A query's rows as a DataFrame. Rows become plain tuples first: building a frame from SQLAlchemy Row objects
    probes each for attributes and cost seconds on the flow table."""
    result = conn.execute(query)
    return pd.DataFrame([tuple(row) for row in result], columns=list(result.keys()))


class BuildLocks:
    """One lock per key being built: the first thread to ask builds it, the others asking for the same key meanwhile
    wait for its result rather than build the same seconds-long value side by side (a page's burst of callbacks);
    different keys build side by side. Every instance is made anew in a forked child (a lock another thread held at
    the fork would stay held there)."""

    every: list[BuildLocks] = []

    def __init__(self):
        self.lock = threading.Lock()
        self.held: dict = {}
        BuildLocks.every.append(self)

    @contextlib.contextmanager
    def building(self, key):
        with self.lock:
            lock = self.held.setdefault(key, threading.Lock())
        try:
            with lock:
                yield
        finally:
            with self.lock:
                self.held.pop(key, None)

    def after_fork(self) -> None:
        self.lock = threading.Lock()
        self.held.clear()


PER_VERSION_KEEP = 32  # argument sets kept per function and data version (distances, facility kinds and units)


class _VersionMemo:
    """The entries of one ``per_version`` function: per database URL, those of its current data version only."""

    def __init__(self, keep: int):
        self.keep = keep
        self.entries: dict[str, tuple[str, OrderedDict]] = {}  # url -> (data version, {args: value}, oldest first)
        self.builds = BuildLocks()
        self.lock = threading.Lock()

    def get(self, url: str, version: str, args: tuple):
        with self.lock:
            known = self.entries.get(url)
            if known is None or known[0] != version or args not in known[1]:
                return _MISSING
            known[1].move_to_end(args)
            return known[1][args]

    def put(self, url: str, version: str, args: tuple, value) -> None:
        with self.lock:
            if self.entries.get(url, ("",))[0] != version:
                self.entries[url] = (version, OrderedDict())  # an older version of the same store goes
            values = self.entries[url][1]
            values[args] = value
            while len(values) > self.keep:
                values.popitem(last=False)

    def after_fork(self) -> None:
        self.lock = threading.Lock()


_MISSING = object()
_memos: list[_VersionMemo] = []  # of every per_version function, for the forked child


def per_version(build, keep: int = PER_VERSION_KEEP):
    """Memoise ``build(eng, version, *args)`` per database, data version and arguments, in this process: derived
    tables are rebuilt once per process when a batch is added, revised or rolled back, and never otherwise. The
    memoised function is called as ``get(eng=None, *args)``; arguments must be hashable. A new data version of a
    store drops the entries of its older ones; of one version, the ``keep`` argument sets used last are kept. One
    thread builds an entry; the others that ask for it meanwhile wait for it (different entries build side by
    side)."""
    memo = _VersionMemo(keep)
    _memos.append(memo)

    @functools.wraps(build)
    def get(eng: Engine | None = None, *args):
        eng = eng or engine()
        url, version = str(eng.url), data_version(eng)
        found = memo.get(url, version, args)
        if found is not _MISSING:
            return found
        with memo.builds.building((url, version, args)):
            found = memo.get(url, version, args)
            if found is _MISSING:
                started = time.monotonic()
                found = build(eng, version, *args)
                memo.put(url, version, args, found)
                if time.monotonic() - started > GIVE_BACK_AFTER:
                    give_back_memory()
        return found

    return get


GIVE_BACK_AFTER = 0.5  # seconds: a build this long made and dropped enough frames to be worth handing back


@functools.cache
def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (macOS, musl): nothing to hand back this way
        return None


def give_back_memory() -> None:
    """Return the heap a build freed to the operating system. glibc keeps freed memory in its arenas for reuse, so
    a process that built a large frame from larger intermediates (the case table: ~300 MB of them at scale for a
    ~115 MB result) would otherwise hold them for good; ``malloc_trim`` gives them back (~130 MB at scale)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


# The version is read on every cached lookup; one query a second per process and database is enough, since other
# processes (workers, the CLI) see a new batch within VERSION_MAX_AGE. A commit in this process forgets it at once.
VERSION_MAX_AGE = 1.0
_versions: dict[str, tuple[float, str]] = {}
_commits = [0]  # counts commits, so a version read while one happened is not kept


def data_version(eng: Engine) -> str:
    """Changes whenever a batch is added, revised or rolled back: the key of every cached aggregate."""
    key = str(eng.url)
    now = time.monotonic()
    known = _versions.get(key)
    if known is not None and now - known[0] < VERSION_MAX_AGE:
        return known[1]
    commits = _commits[0]
    with eng.connect() as conn:
        n, last, active = conn.execute(
            select(
                func.count(batches.c.id),
                func.max(batches.c.id),
                func.sum(case((batches.c.status == "active", batches.c.id), else_=0)),
            )
        ).one()
    version = f"{n}-{last}-{active}"
    if commits == _commits[0]:
        _versions[key] = (now, version)
    return version


@event.listens_for(Engine, "commit")
def _forget_versions(_conn) -> None:
    # any engine of this process, also one a test or the CLI made itself with create_engine
    _commits[0] += 1
    _versions.clear()
