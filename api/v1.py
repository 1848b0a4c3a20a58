"""The read-only open data API, ``/api/v1``: UTF-8 JSON, or CSV with ``format=csv``.

Errors are JSON ``{"error": ...}`` naming the bad parameter: 400 for a bad value, 404 for an unknown region.
Nothing here ever returns a stack trace; failures are logged for the operators. HTTP caching (Cache-Control, the
ETag and 304 of public answers, private signed-in ones): api/http_cache.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

import pandas as pd
from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

import security
from analytics import forecast as forecast_model
from analytics.alerts import BEIJING
from api import http_cache, openapi
from data import alerts, cache, catalogue, disclosure, flow_queries, forecasts, queries, reporting, tasks
from data.catalogue import PUBLIC
from figures.maps import FACILITY_STYLE
from figures.tables import to_csv
from geo import regions
from security import audit, clearance

log = logging.getLogger(__name__)
bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
# Responses are cached per query string and data version, shared by every worker when CACHE_REDIS_URL is set.
bp.record_once(lambda state: cache.init_app(state.app))


def audience() -> str:
    """What a cached answer depends on besides its request: the caller's clearance (public callers get suppressed
    county figures)."""
    return security.clearance()


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


FORMATS = ("json", "csv")


def check_request():
    """Before every endpoint (and before the response cache): an unknown ``format`` is a 400 everywhere, and a CSV
    download is audited: a row per signed-in user's download; anonymous downloads as a count per day and endpoint,
    so the public cannot grow the log by a row a request."""
    fmt = request.args.get("format")
    if fmt is not None and fmt not in FORMATS:
        return jsonify({"error": f"format: 应为 json 或 csv，收到 {fmt!r}"}), 400
    if fmt == "csv":
        if clearance() == PUBLIC:
            audit.count_download(request.path)
        else:
            audit.record("api_download", request.full_path)
    return None


bp.before_request(check_request)
bp.after_request(http_cache.finish)  # Cache-Control on every answer; ETag and 304 on the @conditional ones


@bp.route("/", defaults={"rest": ""})
@bp.route("/<path:rest>")
def unknown(rest: str):
    return jsonify({"error": f"未知接口 /api/v1/{rest}；可用接口见 /api/v1/openapi.json"}), 404


@bp.errorhandler(BadRequest)
def _bad_request(err: BadRequest):
    return jsonify({"error": err.message}), err.status


@bp.errorhandler(Exception)
def _unexpected(err: Exception):
    if isinstance(err, HTTPException):
        return jsonify({"error": err.description}), err.code
    log.exception("API failure on %s", request.full_path)
    return jsonify({"error": "服务器内部错误，请稍后重试或联系管理员"}), 500


def _respond(rows: list[dict], name: str, body=None):
    """``rows`` as JSON (or ``body`` when the JSON answer has another shape), or as CSV with ``format=csv``."""
    if request.args.get("format", "json") == "csv":
        return Response(
            to_csv(pd.DataFrame(rows)),
            content_type="text/csv; charset=utf-8",  # BOM: Excel reads UTF-8
            headers={"Content-Disposition": f"attachment; filename={name}.csv"},
        )
    return jsonify(rows if body is None else body)


def _region_arg() -> regions.Region:
    code = request.args.get("region")
    if not code:
        raise BadRequest("缺少参数 region（六位行政区划代码，如 610100）")
    region = regions.get(code)
    if region is None:
        raise BadRequest(f"region: 未知地区代码 {code}", 404)
    return region


def _date_arg(name: str, default=None) -> pd.Timestamp:
    value = request.args.get(name)
    if value is None:
        if default is not None:
            return pd.Timestamp(default)
        raise BadRequest(f"缺少参数 {name}（YYYY-MM-DD）")
    if not value.strip():
        raise BadRequest(f"{name}: 日期为空，应为 YYYY-MM-DD")
    try:  # four digits, a real calendar day; no sign, no year 0, nothing pandas would stretch to nanoseconds
        if not DATE.fullmatch(value):
            raise ValueError
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name}: 日期格式应为 YYYY-MM-DD，收到 {value!r}") from None
    if day.year < 1900:
        raise BadRequest(f"{name}: {value} 不在数据范围内")
    return pd.Timestamp(day)


DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _in_range(name: str, day: pd.Timestamp) -> None:
    data = queries.case_data()
    if not pd.Timestamp(data.start) <= day <= pd.Timestamp(data.end):
        raise BadRequest(f"{name}: {day.date()} 不在数据范围 {data.start} 至 {data.end} 内")


def _disclosed(region: regions.Region, rows: list[dict]) -> list[dict]:
    """Rows as this caller may see them: county figures suppressed for the public (data/disclosure.py), and only
    the fields the catalogue lists for the summary data set at the caller's clearance."""
    level = clearance()
    if region.level == "county" and level == PUBLIC:
        rows = [disclosure.public_county(row) for row in rows]
    return [catalogue.only_visible("summary", row, level) for row in rows]


@bp.get("/openapi.json")
@http_cache.conditional
def openapi_document():
    """The OpenAPI 3.0 description of every endpoint here (api/openapi.py)."""
    return jsonify(openapi.document())


@bp.get("/regions")
@http_cache.conditional
def regions_list():
    table = regions.table()
    rows = [
        catalogue.only_visible(
            "regions",
            {
                "adcode": r.adcode,
                "name": r.name,
                "level": r.level,
                "parent_adcode": r.parent_adcode or None,
                "admin_parent_adcode": r.admin_parent_adcode or None,
                "population": int(r.population),
            },
            clearance(),
        )
        for r in table.itertuples()
    ]
    return _respond(rows, "regions")


@bp.get("/summary")
@http_cache.conditional
@cache.cached_response(audience)
def summary():
    region = _region_arg()
    day = _date_arg("date", default=queries.case_data().end)
    _in_range("date", day)
    row = _disclosed(region, [queries.summary(region.adcode, day)])[0]
    return _respond([row], f"summary_{region.adcode}_{day.date()}", body=row)


@bp.get("/timeseries")
@http_cache.conditional
@cache.cached_response(audience)
def timeseries():
    region = _region_arg()
    data = queries.case_data()
    start, end = _date_arg("start", data.start), _date_arg("end", data.end)
    _in_range("start", start)
    _in_range("end", end)
    if start > end:
        raise BadRequest("start: 开始日期晚于结束日期")
    rows = _disclosed(region, queries.summaries(region.adcode, start, end))
    return _respond(rows, f"timeseries_{region.adcode}")


@bp.get("/forecast")
@http_cache.conditional
@cache.cached_response(audience)
def forecast():
    """Daily new confirmed for the ``horizon`` days after ``date`` (the ensemble; analytics/forecast.py), made from
    the days up to ``date`` only. County forecasts go to signed-in staff: they carry the county's recent counts
    (a 7-day mean), which the public does not get (data/disclosure.py)."""
    region = _region_arg()
    day = _date_arg("date", default=queries.case_data().end)
    _in_range("date", day)
    raw = request.args.get("horizon", str(forecast_model.HORIZON))
    if not raw.isdigit() or not 1 <= int(raw) <= forecast_model.HORIZON:
        raise BadRequest(f"horizon: 应为 1 至 {forecast_model.HORIZON} 的整数（天），收到 {raw!r}")
    if region.level == "county" and clearance() == PUBLIC:
        raise BadRequest("region: 区县预测含近期小数字，仅向登录的内部用户提供；公开接口可查询省和市（区）", 403)
    rows = forecasts.rows(region.adcode, day, int(raw))
    return _respond(rows, f"forecast_{region.adcode}_{day.date()}")


@bp.get("/facilities")
@http_cache.conditional
@cache.cached_response(audience)
def facilities():
    region = _region_arg()
    kinds = request.args.getlist("kind") or list(FACILITY_STYLE)
    unknown = [k for k in kinds if k not in FACILITY_STYLE]
    if unknown:
        raise BadRequest(f"kind: 未知设施类型 {unknown[0]}，可选 {', '.join(FACILITY_STYLE)}")
    unit = regions.unit_of(region.adcode)
    frame = queries.facilities(kinds, unit.adcode if unit else None)
    if region.level == "county":
        frame = frame[frame.county_adcode == region.adcode]
    features = [
        {
            "type": "Feature",
            "id": int(row.id),
            "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
            "properties": catalogue.only_visible(
                "facilities",
                {
                    "kind": row.kind,
                    "name": row.name,
                    "address": row.address,
                    "county_adcode": row.county_adcode,
                    "unit_adcode": row.unit_adcode,
                    "status": row.status,
                    **row.attrs,
                    "is_demo": bool(row.is_demo),
                },
                clearance(),
            ),
        }
        for row in frame.itertuples()
    ]
    demo = bool(frame.is_demo.any()) if len(frame) else False
    rows = [
        {**f["properties"], "lon": f["geometry"]["coordinates"][0], "lat": f["geometry"]["coordinates"][1]}
        for f in features
    ]  # the CSV: one row a facility
    return _respond(
        rows,
        f"facilities_{region.adcode}",
        body={
            "type": "FeatureCollection",
            "features": features,
            "demo": demo,
            "notice": "演示数据：系统按人口生成，非真实设施" if demo else "",
        },
    )


@bp.get("/flows")
@http_cache.conditional
@cache.cached_response(audience)
def flows():
    region = _region_arg()
    direction = request.args.get("direction", "in")
    if direction not in ("in", "out"):
        raise BadRequest(f"direction: 应为 in 或 out，收到 {direction!r}")
    level = request.args.get("level", "city")
    if level not in ("city", "province"):
        raise BadRequest(f"level: 应为 city 或 province，收到 {level!r}")
    focus, note = flow_queries.focus_for(region.adcode)
    if focus is None:
        raise BadRequest(f"region: {note}")
    data = flow_queries.flow_data()
    day = _date_arg("date")
    if data.start is None or not data.start <= day <= data.end:
        raise BadRequest(f"date: {day.date()} 不在迁徙数据范围 {data.start.date()} 至 {data.end.date()} 内")
    ranking = flow_queries.ranking(focus, day, direction, level)
    rows = [
        catalogue.only_visible(
            "flows",
            {
                "counterpart_adcode": r.counterpart_adcode,
                "counterpart_name": r.counterpart_name,
                "share_pct": float(r.share_pct),
                "index": None if pd.isna(r.volume) else round(float(r.volume), 6),
                "share_change_7d": None if pd.isna(r.share_change_7d) else round(float(r.share_change_7d), 4),
            },
            clearance(),
        )
        for r in ranking.itertuples()
    ]
    return _respond(rows, f"flows_{focus}_{day.date()}_{direction}")


def _iso(moment) -> str | None:
    return moment.astimezone(BEIJING).isoformat(timespec="seconds") if moment is not None else None


def alert_rows(current: alerts.Current, level: str) -> list[dict]:
    """The alerts as a caller of ``level`` may see them: county alerts and who acknowledged go to internal callers
    only (county figures are suppressed for the public)."""
    return [
        catalogue.only_visible(
            "alerts",
            {
                **{
                    k: a[k]
                    for k in (
                        "id",
                        "rule_id",
                        "rule_name",
                        "severity",
                        "adcode",
                        "region",
                        "value",
                        "message",
                        "acknowledged_by",
                    )
                },
                "day": a["day"].isoformat(),
                "raised_at": _iso(a["raised_at"]),
                "acknowledged": a["acknowledged_at"] is not None,
                "acknowledged_at": _iso(a["acknowledged_at"]),
            },
            level,
        )
        for a in current.alerts
        if level != PUBLIC or regions.get(a["adcode"]).level != "county"
    ]


@bp.get("/alerts")
def alerts_list():
    """The alerts of the latest data day, most severe first (data/alerts.py). Not cached with the other answers: an
    acknowledgement changes it without a new data version."""
    current = alerts.current()
    if current.error:
        log.error("%s", current.error)
        return jsonify({"error": "预警规则文件有误，暂未评估；请管理员查看日志"}), 503
    return _respond(alert_rows(current, clearance()), "alerts")


@bp.get("/reporting-status")
def reporting_status():
    """The reporting board of a day (data/reporting.py): reported / late / missing for the 12 units and the counties
    with accounts. Not cached: the deadline passes without a new data version. Who reported (``by``, usernames) goes
    to signed-in callers only."""
    today = reporting.today()
    day = _date_arg("date", default=today)
    if day.date() > today:
        raise BadRequest(f"date: {day.date()} 晚于今天 {today}（北京时间），尚无报送")
    rows = [
        catalogue.only_visible(
            "reporting", {**row, "reported_at": _iso(row["reported_at"]), "due_at": _iso(row["due_at"])}, clearance()
        )
        for row in reporting.status(day.date())
    ]
    return _respond(rows, f"reporting_status_{day.date()}")


def task_rows(rows: list[dict]) -> list[dict]:
    """Tasks as the API gives them (data/tasks.py), times in Beijing time."""
    return [
        {
            **{k: t[k] for k in ("id", "region_adcode", "region", "title", "detail")},
            "due_at": _iso(t["due_at"]),
            "status": t["status"],
            "overdue": t["overdue"],
            "created_by": t["created_by"],
            "created_at": _iso(t["created_at"]),
            "events": [
                {"status": e["status"], "note": e["note"], "by": e["by"], "at": _iso(e["at"])} for e in t["events"]
            ],
        }
        for t in rows
    ]


@bp.get("/tasks")
def tasks_list():
    """Follow-up tasks, for signed-in users only (401 for anyone else), within the account's region; open ones first.
    Not cached with the other answers: a task moves on without a new data version. CSV: a row per step."""
    if clearance() == PUBLIC or security.current_role() is None:
        return jsonify({"error": "请先登录：任务接口只向登录用户提供"}), 401
    code = request.args.get("region")
    if code is not None and regions.get(code) is None:
        raise BadRequest(f"region: 未知地区代码 {code}", 404)
    status = request.args.get("status")
    if status is not None and status not in tasks.STATUSES:
        raise BadRequest(f"status: 应为 {'、'.join(tasks.STATUSES)} 之一，收到 {status!r}")
    rows = task_rows(tasks.list_tasks(region=code, include_done=True, scope=security.current_scope()))
    if status is not None:
        rows = [r for r in rows if r["status"] == status]
    if request.args.get("format", "json") == "csv":
        flat = [
            {**{k: v for k, v in r.items() if k != "events"}, **{f"event_{k}": v for k, v in e.items()}}
            for r in rows
            for e in r["events"]
        ]
        return _respond(flat, "tasks")
    return _respond(rows, "tasks")
