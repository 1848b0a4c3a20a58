"""The reporting board (报送看板): which regions have reported a day's figures, on time or late, and who has not.

A day's report is due at a deadline: by default 09:00 Beijing time of the next day; ``REPORT_DEADLINE`` sets it as
``HH:MM`` (the next day at that time) or ``+N HH:MM`` (N days after the day, N = 0..7; ``+0 22:00`` is the same
day). The board lists the 12 reporting units and the counties that have an active account.

- reported: an active batch holds the region's own row for the day (a ``case_reports`` row of category
  ``reported``, or the region's cases in a case list; a unit's cases include its counties'), first stored by the
  deadline. ``reported_at`` is when that batch was stored, ``by`` who stored it.
- late: the first such batch was stored after the deadline.
- missing: no active batch holds it (a rolled-back batch does not count). ``past_due`` says whether the deadline
  has passed; before it the UI says 未到截止时间.

History: the case series shipped with the system (data/shipped.py, loaded on first start, years after the days it
covers) counts as reported, with ``reported_at`` None and ``by`` 历史数据导入. Any other file, also a backfill of
old days uploaded today, counts by when it was stored: late when after the deadline.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from functools import lru_cache

from sqlalchemy import select

from analytics.alerts import BEIJING, Deadline
from data import shipped, store
from geo import regions

log = logging.getLogger(__name__)
DEFAULT_DEADLINE = "+1 09:00"
HISTORY_BY = "历史数据导入"
STATUS_NAMES = {"reported": "已报", "late": "迟报", "missing": "未报"}
_SPEC = re.compile(r"^\s*(?:\+\s*(\d)\s+)?([01]?\d|2[0-3]):([0-5]\d)\s*$")


def parse_deadline(text: str | None) -> Deadline:
    """``09:00`` -> the next day at 09:00; ``+N HH:MM`` -> N days after the day. A ValueError says what is wrong."""
    if text is None or not text.strip():
        text = DEFAULT_DEADLINE
    match = _SPEC.match(text)
    if not match or int(match.group(1) or 1) > 7:
        raise ValueError(f"REPORT_DEADLINE 应为 HH:MM（次日该时刻）或 +N HH:MM（N 为 0 至 7 天后），收到 {text!r}")
    return Deadline(days_after=int(match.group(1) or 1), time=dt.time(int(match.group(2)), int(match.group(3))))


@lru_cache(maxsize=8)
def _configured(text: str | None) -> Deadline:
    try:
        return parse_deadline(text)
    except ValueError as exc:  # a typo in the environment must not stop the pages; the log says what to fix
        log.error("%s；按默认 %s（次日 09:00）计算", exc, DEFAULT_DEADLINE)
        return parse_deadline(DEFAULT_DEADLINE)


def deadline() -> Deadline:
    return _configured(os.environ.get("REPORT_DEADLINE"))


def due_at(day: dt.date, rule: Deadline | None = None) -> dt.datetime:
    """When the report of ``day`` is due (aware, Beijing time)."""
    return (rule or deadline()).of(as_date(day))


def deadline_text(rule: Deadline | None = None) -> str:
    """The deadline in words: 次日 09:00, 当日 22:00, 第2日 09:00."""
    rule = rule or deadline()
    when = {0: "当日", 1: "次日"}.get(rule.days_after, f"{rule.days_after}日后")
    return f"{when} {rule.time:%H:%M}（北京时间）"


def now_beijing(now: dt.datetime | None = None) -> dt.datetime:
    now = now or dt.datetime.now(dt.UTC)
    return (now if now.tzinfo else now.replace(tzinfo=dt.UTC)).astimezone(BEIJING)


def today(now: dt.datetime | None = None) -> dt.date:
    """Today in Beijing."""
    return now_beijing(now).date()


def due_day(now: dt.datetime | None = None, rule: Deadline | None = None) -> dt.date:
    """The day whose report falls due today (yesterday with the default deadline): what the board shows first."""
    return today(now) - dt.timedelta(days=(rule or deadline()).days_after)


def as_date(day) -> dt.date:
    if isinstance(day, dt.datetime):
        return day.date()
    if isinstance(day, dt.date):
        return day
    if hasattr(day, "date"):  # a pandas Timestamp
        return day.date()
    return dt.date.fromisoformat(str(day)[:10])


def _aware(moment) -> dt.datetime | None:
    """A stored time in Beijing time: SQLite keeps UTC without a zone, PostgreSQL with one."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(BEIJING)


def board_regions(eng=None) -> list[regions.Region]:
    """The 12 reporting units, then the counties that have an active account (in code order)."""
    eng = eng or store.engine()
    with eng.connect() as conn:
        codes = {
            c
            for (c,) in conn.execute(
                select(store.users.c.region_adcode).where(
                    store.users.c.active.is_(True), store.users.c.region_adcode.is_not(None)
                )
            )
        }
    counties = sorted(
        (r for r in map(regions.get, codes) if r is not None and r.level == "county"), key=lambda r: r.adcode
    )
    return list(regions.units()) + counties


def _is_history(created_by: str | None, source: str | None) -> bool:
    """Stored by the loader of the shipped case series (data/shipped.py) on first start."""
    return created_by == "system" and source == shipped.CASES_SOURCE


def first_reports(first_day, last_day=None, eng=None) -> dict[tuple[str, dt.date], dict]:
    """(adcode, day) -> the first active batch holding the region's own figures for that day:
    {batch_id, at (aware, Beijing), by, history}. A case list's cases count for their county and its unit."""
    eng = eng or store.engine()
    first_day = as_date(first_day)
    last_day = as_date(last_day) if last_day is not None else first_day
    b, cr, cl = store.batches, store.case_reports, store.case_list
    own = (
        select(cr.c.region_adcode, cr.c.as_of_date, b.c.id, b.c.created_at, b.c.created_by, b.c.source)
        .join(b, b.c.id == cr.c.batch_id)
        .where(
            b.c.status == "active",
            cr.c.category == "reported",
            cr.c.as_of_date >= first_day,
            cr.c.as_of_date <= last_day,
        )
    )
    listed = (
        select(cl.c.region_adcode, cl.c.report_date, b.c.id, b.c.created_at, b.c.created_by, b.c.source)
        .join(b, b.c.id == cl.c.batch_id)
        .where(b.c.status == "active", cl.c.report_date >= first_day, cl.c.report_date <= last_day)
        .distinct()
    )
    with eng.connect() as conn:
        rows = list(conn.execute(own)) + list(conn.execute(listed))
    out: dict[tuple[str, dt.date], dict] = {}
    for adcode, day, batch_id, created_at, created_by, source in rows:
        day = as_date(day)
        unit = regions.unit_of(adcode)
        at = _aware(created_at)
        entry = {"batch_id": batch_id, "at": at, "by": created_by, "history": _is_history(created_by, source)}
        for code in {adcode, unit.adcode if unit is not None else adcode}:
            known = out.get((code, day))
            if known is None or (at, batch_id) < (known["at"], known["batch_id"]):
                out[(code, day)] = entry
    return out


def status(day, now: dt.datetime | None = None, eng=None, rule: Deadline | None = None) -> list[dict]:
    """The board of ``day``: one dict a region (units, then counties with accounts) with adcode, name, level,
    status (reported | late | missing), reported_at (aware datetime or None), by, due_at, past_due."""
    day = as_date(day)
    rule = rule or deadline()
    moment = now_beijing(now)
    due = due_at(day, rule)
    firsts = first_reports(day, eng=eng)
    out = []
    for region in board_regions(eng):
        first = firsts.get((region.adcode, day))
        row = {
            "adcode": region.adcode,
            "name": region.display_name,
            "level": region.level,
            "status": "missing",
            "reported_at": None,
            "by": None,
            "due_at": due,
            "past_due": moment > due,
        }
        if first is not None:
            if first["history"]:
                row.update(status="reported", by=HISTORY_BY)
            else:
                row.update(status="reported" if first["at"] <= due else "late", reported_at=first["at"], by=first["by"])
        out.append(row)
    return out


def counts(rows: list[dict]) -> dict:
    """Of the 12 units: how many reported (on time or late), late, missing, and the missing ones' names."""
    units = [r for r in rows if r["level"] == "unit"]
    missing = [r["name"] for r in units if r["status"] == "missing"]
    return {
        "units": len(units),
        "reported": len(units) - len(missing),
        "late": sum(r["status"] == "late" for r in units),
        "missing": missing,
        "late_names": [r["name"] for r in units if r["status"] == "late"],
    }


def status_words(row: dict) -> str:
    """已报 / 迟报 / 未报（未到截止时间）."""
    if row["status"] == "missing" and not row["past_due"]:
        return "未报（未到截止时间）"
    return STATUS_NAMES[row["status"]]
