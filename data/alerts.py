"""Alerts of the latest data day: the metrics the rules look at, the rules' verdict, and the ``alerts`` table that
remembers when each alert was first raised and who acknowledged it.

- The metrics table (region x day x metric, ``analytics.alerts.METRICS``) is built once per data version from the
  derived daily figures, plus clinic load and stock days from the adequacy table (``data.resources.adequacy``).
- ``current()`` evaluates the rules (``analytics/alert_rules.yaml``, read again when the file changes) on the latest
  data day, stores alerts it has not seen before (raised now, with the data version that produced them) and
  returns them with their stored time and acknowledgement. Evaluating is cheap once the table is built, so the
  pages call it on every poll: a report deadline that passes between two batches raises its alert at the next poll.
- An alert no longer produced (a batch rolled back, a figure revised) is not current and not shown; its row stays.

Deadline of a daily report: the report for day D is due by D+1 09:00 Beijing time (the rule's ``deadline``). Only the
latest data day is checked: a day no region has reported yet is not known to be due (the shipped 2020 series would
otherwise be overdue every day since it ended).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from analytics import alerts as rules_engine
from data import queries, resources, store
from geo import regions

log = logging.getLogger(__name__)

WINDOW_DAYS = 14  # the longest look back a rule needs (Rt for N days, the last known risk level)
RANKS = {"low": 0.0, "medium": 1.0, "high": 2.0}
REPORTED = {"reported": 1.0, "missing": 0.0}  # before a region's first report there is no report to miss


def metrics_frame(daily: pd.DataFrame, end, adequacy: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rules' metrics for the WINDOW_DAYS days ending ``end``: index (adcode, date), metric columns, ``name``
    and ``level``. ``daily`` is ``queries.case_data().daily``; ``adequacy`` (index adcode, columns ``clinic_load``,
    ``stock_days`` and ``demo``) gives the facility metrics of ``end``."""
    end = pd.Timestamp(end)
    dates = daily.index.get_level_values("date")
    window = daily[(dates > end - pd.Timedelta(days=WINDOW_DAYS)) & (dates <= end)]
    out = pd.DataFrame(
        {
            "new_24h": window["new_confirmed"],
            "new_7d": window["new_7d"],
            "rt": window["rt"],
            "risk_rank": window["risk_level"].map(RANKS),
            "reported": window["status"].map(REPORTED),
        },
        index=window.index,
    ).astype("float64")
    if adequacy is not None and len(adequacy):
        facility = adequacy.reindex(columns=["clinic_load", "stock_days"]).astype("float64")
        facility["facility_demo"] = (
            adequacy["demo"].fillna(False).astype(bool).astype("float64") if "demo" in adequacy else 0.0
        )
        facility.index = pd.MultiIndex.from_arrays(
            [facility.index.astype(str), [end] * len(facility)], names=["adcode", "date"]
        )
        out = out.join(facility, how="outer")
    known = {code: regions.get(code) for code in out.index.get_level_values("adcode").unique()}
    out = out[[known[c] is not None for c in out.index.get_level_values("adcode")]]
    codes = out.index.get_level_values("adcode")
    out["name"] = [known[c].display_name for c in codes]
    out["level"] = [known[c].level for c in codes]
    return out.sort_index()


def _adequacy(day, eng) -> pd.DataFrame | None:
    """Clinic load and stock days of every county, unit and the province on ``day`` from the adequacy table; when
    it cannot be read the two facility rules raise nothing. 杨凌 and 韩城 are a unit and a county under one code:
    their unit row is kept, as in the case figures."""
    try:
        frames = [resources.adequacy(day, level=level, eng=eng) for level in ("county", "unit", "province")]
    except Exception:
        log.exception("预警：读取发热门诊负荷与物资天数失败，相关规则本次不评估")
        return None
    combined = pd.concat(frames)
    if not combined.reindex(columns=["clinic_capacity", "mask_stock"]).fillna(0).to_numpy().any():
        return None  # no clinic or pharmacy in the store at all: the figures are unknown, not zero
    return combined[~combined.index.duplicated(keep="last")]


def _build(eng, version: str) -> tuple[pd.DataFrame, dt.date]:
    data = queries.case_data(eng)
    end = pd.Timestamp(data.end)
    return metrics_frame(data.daily, end, _adequacy(end.date(), eng)), end.date()


metrics = store.per_version(_build)

_rules_memo: dict[Path, tuple[int, object]] = {}


def rules(path: Path = rules_engine.RULES_PATH) -> tuple:
    """The rules, read again whenever the file changes (RuleError when it cannot be used)."""
    stamp = path.stat().st_mtime_ns if path.exists() else -1
    known = _rules_memo.get(path)
    if known is None or known[0] != stamp:
        try:
            _rules_memo[path] = (stamp, rules_engine.load_rules(path))
        except rules_engine.RuleError as err:
            _rules_memo[path] = (stamp, err)
            log.error("%s", err)
    found = _rules_memo[path][1]
    if isinstance(found, Exception):
        raise found
    return found


@dataclass
class Current:
    """The alerts of the latest data day, most pressing first, with their stored state."""

    day: dt.date | None
    alerts: list[dict] = field(default_factory=list)
    error: str | None = None  # why no rules could be evaluated (a bad rules file), in Chinese
    looked_back: bool = False  # an earlier day's alerts, worked out again (as_of): read-only

    @property
    def unacknowledged(self) -> int:
        return sum(1 for a in self.alerts if a["acknowledged_at"] is None)


def utc(moment) -> dt.datetime | None:
    """A stored time as an aware UTC datetime (SQLite gives it back without its zone)."""
    if moment is None or pd.isna(moment):
        return None
    moment = pd.Timestamp(moment).to_pydatetime()
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def current(eng=None, now: dt.datetime | None = None, path: Path = rules_engine.RULES_PATH) -> Current:
    eng = eng or store.engine()
    now = now or dt.datetime.now(dt.UTC)
    table, day = metrics(eng)
    if table.empty:
        return Current(None)
    try:
        found = rules_engine.evaluate(table, rules(path), day, now)
    except rules_engine.RuleError as err:
        return Current(day, error=str(err))
    _remember(found, eng, now)
    stored = _stored(eng, day)
    rows = []
    for alert in found:
        row = stored.get(alert.key)
        if row is None:  # removed from the table by hand meanwhile: store it again next time
            _persisted.discard((str(eng.url), *alert.key, alert.message))
            continue
        rows.append(_listed(alert, row))
    return Current(day, rows)


def _listed(alert, stored: dict | None = None) -> dict:
    """An alert as the lists and the API show it, with its stored time and acknowledgement (none: worked out again
    for an earlier day, never stored)."""
    stored = stored or {}
    return {
        "id": stored.get("id"),
        "rule_id": alert.rule_id,
        "rule_name": alert.rule_name,
        "severity": alert.severity,
        "adcode": alert.adcode,
        "region": alert.region,
        "day": alert.day,
        "value": alert.value,
        "message": alert.message,
        "raised_at": utc(stored.get("raised_at")),
        "acknowledged_by": stored.get("acknowledged_by"),
        "acknowledged_at": utc(stored.get("acknowledged_at")),
    }


def as_of(day, eng=None, path: Path = rules_engine.RULES_PATH) -> Current:
    """The alerts the rules give for an earlier day, as a view of that day shows them: worked out again from the
    figures up to it, read-only (not stored, nothing to acknowledge, no time raised) and without the facility rules
    (their figures are today's). The latest data day gives ``current()``."""
    eng = eng or store.engine()
    data = queries.case_data(eng)
    day = pd.Timestamp(day)
    if day >= pd.Timestamp(data.end):
        return current(eng, path=path)
    table = metrics_frame(data.daily, day)
    if table.empty:
        return Current(day.date(), looked_back=True)
    try:
        found = rules_engine.evaluate(table, rules(path), day.date(), None)
    except rules_engine.RuleError as err:
        return Current(day.date(), error=str(err), looked_back=True)
    return Current(day.date(), looked_back=True, alerts=[_listed(a) for a in found])


# (database, rule, region, day, message) this process has stored: a poll that finds nothing new writes nothing
_persisted: set[tuple] = set()
_persist_lock = threading.Lock()


def _remember(found: list, eng, now: dt.datetime) -> None:
    """Store alerts not stored before (raised now) and the new text of alerts whose figure was revised."""
    url = str(eng.url)
    new = [a for a in found if (url, *a.key, a.message) not in _persisted]
    if not new:
        return
    version = store.data_version(eng)
    rows = [
        {
            "rule_id": a.rule_id,
            "adcode": a.adcode,
            "day": a.day,
            "severity": a.severity,
            "message": a.message,
            "value": a.value,
            "raised_at": now,
            "data_version": version,
        }
        for a in new
    ]
    t = store.alerts
    with _persist_lock, eng.begin() as conn:
        _insert_new(conn, rows)
        for a in new:  # same rule, region and day, another figure: keep the time raised, say the new figure
            conn.execute(
                update(t)
                .where(t.c.rule_id == a.rule_id, t.c.adcode == a.adcode, t.c.day == a.day, t.c.message != a.message)
                .values(message=a.message, value=a.value, severity=a.severity)
            )
    if len(_persisted) > 20_000:
        _persisted.clear()
    _persisted.update((url, *a.key, a.message) for a in new)


def _insert_new(conn, rows: list[dict]) -> None:
    """Insert the rows whose (rule, region, day) is not stored yet; another process may be storing the same alerts
    at the same moment, and the first one keeps its time."""
    t = store.alerts
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(conn.dialect.name)
    if dialect is not None:
        conn.execute(dialect.insert(t).on_conflict_do_nothing(index_elements=["rule_id", "adcode", "day"]), rows)
        return
    for row in rows:  # any other database: one savepoint per row
        try:
            with conn.begin_nested():
                conn.execute(t.insert(), row)
        except IntegrityError:
            pass


def _stored(eng, day: dt.date) -> dict[tuple, dict]:
    t = store.alerts
    with eng.connect() as conn:
        result = conn.execute(
            select(
                t.c.id, t.c.rule_id, t.c.adcode, t.c.day, t.c.raised_at, t.c.acknowledged_by, t.c.acknowledged_at
            ).where(t.c.day == day)
        )
        return {(r.rule_id, r.adcode, r.day): r._asdict() for r in result}


def acknowledge(alert_id: int, user: str, eng=None, now: dt.datetime | None = None) -> bool:
    """Mark an alert acknowledged by ``user`` now; False when it does not exist or was acknowledged already (the
    first acknowledgement stands)."""
    eng = eng or store.engine()
    t = store.alerts
    with eng.begin() as conn:
        done = conn.execute(
            update(t)
            .where(t.c.id == int(alert_id), t.c.acknowledged_at.is_(None))
            .values(acknowledged_by=user[:64], acknowledged_at=now or dt.datetime.now(dt.UTC))
        )
    return done.rowcount == 1
