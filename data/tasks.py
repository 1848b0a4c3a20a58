"""Follow-up tasks (issue 20): a duty officer turns an alert, or anything on the map, into a task for a region; the
region's officers answer it on `/report`.

Life cycle: sent 已派发 → received 已接收 → in_progress 处理中 → done 已完成; received → done directly is allowed.
Nothing goes backwards, nothing leaves done, and a step cannot be skipped from sent (a task is received first).
Every step is a row in ``task_events`` (who, when, a note) and a line in the audit log (action ``task``). Times are
stored in UTC and shown in Beijing time (``beijing``). A task is overdue when it is not done and its due time has
passed. Tasks change without a new data version: nothing here is cached.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, select, update

from analytics.alerts import BEIJING
from data import audit, store
from data.alerts import utc
from geo import regions
from geo.regions import within_scope

STATUSES = {"sent": "已派发", "received": "已接收", "in_progress": "处理中", "done": "已完成"}
NEXT = {"sent": ("received",), "received": ("in_progress", "done"), "in_progress": ("done",), "done": ()}
TITLE_MAX, DETAIL_MAX, NOTE_MAX = 200, 2000, 1000
DEFAULT_DUE = dt.timedelta(hours=24)


class TaskError(ValueError):
    """A step that cannot be taken; the message says why, in one Chinese sentence."""


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def beijing(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored time (UTC, possibly without its zone from SQLite) in Beijing time."""
    moment = utc(moment)
    return moment.astimezone(BEIJING) if moment is not None else None


def shown(moment: dt.datetime | None) -> str:
    """'12月8日 10:03' in Beijing time; '' for none."""
    moment = beijing(moment)
    return f"{moment.month}月{moment.day}日 {moment:%H:%M}" if moment is not None else ""


def parse_due(text: str | None) -> dt.datetime:
    """'2026-12-07 14:00' (Beijing time; 'T' or '/' accepted) as an aware UTC time; TaskError in words otherwise."""
    value = (text or "").strip().replace("T", " ").replace("/", "-")
    if not value:
        raise TaskError("请填写截止时间（北京时间，格式 YYYY-MM-DD HH:MM）。")
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            local = dt.datetime.strptime(value, pattern)
            break
        except ValueError:
            continue
    else:
        raise TaskError(f"截止时间“{text}”无法识别：请按 YYYY-MM-DD HH:MM 填写（北京时间），如 2026-12-07 14:00。")
    return local.replace(tzinfo=BEIJING).astimezone(dt.UTC)


def due_text(moment: dt.datetime) -> str:
    """The due time as the form shows it: 'YYYY-MM-DD HH:MM' in Beijing time."""
    return f"{beijing(moment):%Y-%m-%d %H:%M}"


def _region(adcode: str | None) -> regions.Region:
    region = regions.get(str(adcode or ""))
    if region is None:
        raise TaskError(f"未知地区代码 {adcode}：请选择一个市（区）或县（区）。")
    if region.adcode == regions.province().adcode:
        raise TaskError("任务要派给一个市（区）或县（区），不能派给全省：请选择具体地区。")
    return region


def label(adcode: str) -> str:
    """A region as the task lists name it: '太白县（宝鸡市）' for a county, '宝鸡市' for a unit."""
    region = regions.get(adcode)
    if region is None:
        return adcode
    unit = regions.unit_of(adcode) if region.level == "county" else None
    return f"{region.name}（{unit.name}）" if unit is not None and unit.adcode != adcode else region.display_name


def _audit(
    task_id: int, status: str, region: str, title: str, note: str | None, by: str, role: str | None, eng
) -> None:
    name = label(region)
    text = f"任务 #{task_id} {STATUSES[status]}（{status}）：{name} {title}"
    audit.append("task", text + (f"；说明：{note}" if note else ""), by, role, eng)


def create(
    region: str,
    title: str,
    detail: str | None,
    due_at: dt.datetime,
    by: str,
    alert_id: int | None = None,
    eng=None,
    now: dt.datetime | None = None,
    scope: str | None = None,
    role: str | None = "cli",
) -> int:
    """Send a task to ``region``: status sent, one event, one audit line; returns its id. ``scope``: the sender's
    region (a scoped officer sends only within it); ``role``: the sender's, for the audit line (a script: cli)."""
    eng = eng or store.engine()
    now = utc(now) or now_utc()
    place = _region(region)
    if not within_scope(place.adcode, scope):
        raise TaskError(f"{place.display_name}不在本账号的地区范围内，不能派发。")
    title = (title or "").strip()
    if not title:
        raise TaskError("请填写任务内容（做什么）。")
    if len(title) > TITLE_MAX:
        raise TaskError(f"任务内容过长（{len(title)} 字，至多 {TITLE_MAX} 字）：细节请写在说明里。")
    detail = (detail or "").strip() or None
    if detail and len(detail) > DETAIL_MAX:
        raise TaskError(f"说明过长（{len(detail)} 字，至多 {DETAIL_MAX} 字）。")
    if not isinstance(due_at, dt.datetime):
        raise TaskError("截止时间无效。")
    due = utc(due_at) if due_at.tzinfo is not None else due_at.replace(tzinfo=BEIJING).astimezone(dt.UTC)
    if due <= now:
        raise TaskError(f"截止时间 {shown(due)} 已过：请给出将来的时间。")
    if alert_id is not None:
        with eng.connect() as conn:
            if conn.execute(select(store.alerts.c.id).where(store.alerts.c.id == int(alert_id))).first() is None:
                raise TaskError(f"预警 #{alert_id} 不存在。")
    by = (by or "未知")[:64]
    with eng.begin() as conn:
        task_id = conn.execute(
            insert(store.tasks).values(
                region_adcode=place.adcode,
                title=title,
                detail=detail,
                due_at=due,
                alert_id=int(alert_id) if alert_id is not None else None,
                status="sent",
                created_by=by,
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        conn.execute(insert(store.task_events).values(task_id=task_id, status="sent", note=None, by=by, at=now))
    _audit(task_id, "sent", place.adcode, title, None, by, role, eng)
    return int(task_id)


def advance(
    task_id: int,
    status: str,
    note: str | None,
    by: str,
    eng=None,
    now: dt.datetime | None = None,
    scope: str | None = None,
    role: str | None = "cli",
) -> dict:
    """Take a task one step on (received, in_progress, done) with an optional note; returns the task as ``get``
    gives it. ``scope``: the answering account's region (a task of another region is refused); ``role``: the
    answering account's, for the audit line (a script: cli)."""
    eng = eng or store.engine()
    now = utc(now) or now_utc()
    if status not in STATUSES or status == "sent":
        raise TaskError(f"未知状态 {status!r}：应为 已接收、处理中 或 已完成。")
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        raise TaskError(f"说明过长（{len(note)} 字，至多 {NOTE_MAX} 字）。")
    t = store.tasks
    with eng.connect() as conn:
        row = conn.execute(select(t.c.status, t.c.region_adcode, t.c.title).where(t.c.id == int(task_id))).first()
    if row is None:
        raise TaskError(f"任务 #{task_id} 不存在。")
    if not within_scope(row.region_adcode, scope):
        raise TaskError(f"任务 #{task_id} 不属于本账号的地区，不能处理。")
    _check_step(int(task_id), row.status, status)
    by = (by or "未知")[:64]
    with eng.begin() as conn:
        done = conn.execute(
            update(t).where(t.c.id == int(task_id), t.c.status == row.status).values(status=status, updated_at=now)
        )
        if done.rowcount != 1:  # someone else moved it meanwhile: say where it is now
            current = conn.execute(select(t.c.status).where(t.c.id == int(task_id))).scalar_one()
            raise TaskError(f"任务 #{task_id} 刚被他人标为「{STATUSES[current]}」，请刷新后再操作。")
        conn.execute(insert(store.task_events).values(task_id=int(task_id), status=status, note=note, by=by, at=now))
    _audit(int(task_id), status, row.region_adcode, row.title, note, by, role, eng)
    return get(int(task_id), eng=eng, now=now)


def _check_step(task_id: int, current: str, wanted: str) -> None:
    if wanted in NEXT[current]:
        return
    if current == "done":
        raise TaskError(f"任务 #{task_id} 已完成，不能再改为「{STATUSES[wanted]}」。")
    if wanted == current:
        raise TaskError(f"任务 #{task_id} 已是「{STATUSES[current]}」。")
    order = [*STATUSES]
    if order.index(wanted) < order.index(current):
        raise TaskError(f"任务 #{task_id} 已是「{STATUSES[current]}」，不能退回「{STATUSES[wanted]}」。")
    raise TaskError(f"任务 #{task_id} 尚未接收：请先标记「已接收」，再标「{STATUSES[wanted]}」。")


def _rows(eng, where, now: dt.datetime) -> list[dict]:
    t, e = store.tasks, store.task_events
    with eng.connect() as conn:
        tasks = conn.execute(select(t).where(*where).order_by(t.c.id)).all()
        ids = [r.id for r in tasks]
        events: dict[int, list] = {i: [] for i in ids}
        if ids:
            for ev in conn.execute(select(e).where(e.c.task_id.in_(ids)).order_by(e.c.at, e.c.id)):
                events[ev.task_id].append(
                    {
                        "status": ev.status,
                        "status_name": STATUSES.get(ev.status, ev.status),
                        "note": ev.note,
                        "by": ev.by,
                        "at": utc(ev.at),
                    }
                )
    out = []
    for r in tasks:
        due = utc(r.due_at)
        out.append(
            {
                "id": r.id,
                "region_adcode": r.region_adcode,
                "region": label(r.region_adcode),
                "title": r.title,
                "detail": r.detail,
                "due_at": due,
                "alert_id": r.alert_id,
                "status": r.status,
                "status_name": STATUSES.get(r.status, r.status),
                "overdue": r.status != "done" and due < now,
                "created_by": r.created_by,
                "created_at": utc(r.created_at),
                "updated_at": utc(r.updated_at),
                "events": events[r.id],
            }
        )
    return out


def get(task_id: int, eng=None, now: dt.datetime | None = None) -> dict:
    found = _rows(eng or store.engine(), [store.tasks.c.id == int(task_id)], utc(now) or now_utc())
    if not found:
        raise TaskError(f"任务 #{task_id} 不存在。")
    return found[0]


def list_tasks(
    region: str | None = None,
    include_done: bool = False,
    scope: str | None = None,
    eng=None,
    now: dt.datetime | None = None,
) -> list[dict]:
    """Tasks with their events, open ones first (the earliest due first), then done ones (latest first).
    ``region`` and ``scope`` each keep a region and, for a unit, its counties (None or 610000: all)."""
    eng = eng or store.engine()
    now = utc(now) or now_utc()
    where = [] if include_done else [store.tasks.c.status != "done"]
    province = regions.province().adcode
    keep = [code for code in (region, scope) if code and code != province]
    rows = [r for r in _rows(eng, where, now) if all(within_scope(r["region_adcode"], code) for code in keep)]
    open_ = sorted((r for r in rows if r["status"] != "done"), key=lambda r: (r["due_at"], r["id"]))
    done = sorted(
        (r for r in rows if r["status"] == "done"), key=lambda r: r["updated_at"] or r["created_at"], reverse=True
    )
    return open_ + done


def overdue(now: dt.datetime | None = None, eng=None, scope: str | None = None) -> list[dict]:
    """Tasks not done whose due time is before ``now``, the longest overdue first."""
    now = utc(now) or now_utc()
    eng = eng or store.engine()
    t = store.tasks
    where = [t.c.status != "done", t.c.due_at < now]
    rows = [
        r for r in _rows(eng, where, now) if r["overdue"] and (not scope or within_scope(r["region_adcode"], scope))
    ]
    return sorted(rows, key=lambda r: (r["due_at"], r["id"]))


def fingerprint(eng=None) -> tuple:
    """Changes whenever a task is sent or moves on: (how many tasks, the latest change)."""
    t = store.tasks
    with (eng or store.engine()).connect() as conn:
        count, latest = conn.execute(select(func.count(t.c.id), func.max(t.c.updated_at))).one()
    return count, str(latest)


def overdue_summary(rows: list[dict]) -> str:
    """'逾期任务 2 项：雁塔区（西安市）、宝鸡市' ('' when none); at most five regions named."""
    if not rows:
        return ""
    names = [*dict.fromkeys(r["region"] for r in rows)]
    more = f" 等 {len(names)} 地" if len(names) > 5 else ""
    return f"逾期任务 {len(rows)} 项：{'、'.join(names[:5])}{more}"


list = list_tasks  # noqa: A001  (the name the brief gives: tasks.list(...)); defined last, unused inside this module
