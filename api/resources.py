"""``/api/v1/coverage``, ``/api/v1/coverage/gaps.geojson`` and ``/api/v1/adequacy``: the 资源保障 figures of `/`.

A blueprint of its own under the same prefix, with the same error handling as api/v1.py (JSON ``{"error": ...}``
naming the parameter, never a trace). Facility-derived figures carry ``demo: true`` while the facilities are demo
data.
"""

from __future__ import annotations

import math

from flask import Blueprint, Response, request

import security
from analytics import coverage as cov
from analytics.adequacy import flag_reasons
from api import http_cache
from api.v1 import BadRequest, _bad_request, _date_arg, _in_range, _respond, _unexpected, audience, check_request
from data import cache, catalogue, queries, resources
from data.catalogue import PUBLIC
from data.resources import adequacy
from geo import regions

bp = Blueprint("api_v1_resources", __name__, url_prefix="/api/v1")
bp.register_error_handler(BadRequest, _bad_request)
bp.register_error_handler(Exception, _unexpected)
bp.before_request(check_request)
bp.after_request(http_cache.finish)
LEVELS = ("county", "unit", "province")


def _distance() -> int:
    value = request.args.get("distance_km", str(cov.DEFAULT_DISTANCE_KM))
    allowed = ", ".join(str(d) for d in cov.DISTANCES_KM)
    try:
        distance = float(value)
    except ValueError:
        raise BadRequest(f"distance_km: 应为 {allowed} 之一（公里，直线距离），收到 {value!r}") from None
    if distance not in cov.DISTANCES_KM:
        raise BadRequest(f"distance_km: 应为 {allowed} 之一（公里，直线距离），收到 {value!r}")
    return int(distance)


def _level() -> str:
    level = request.args.get("level", "unit")
    if level not in LEVELS:
        raise BadRequest(f"level: 应为 county、unit 或 province，收到 {level!r}")
    return level


def _parent(level: str) -> str | None:
    parent = request.args.get("parent")
    if parent is None:
        return None
    region = regions.get(parent)
    if level != "county" or region is None or region.level not in ("unit", "province"):
        raise BadRequest(f"parent: 只用于 level=county，应为某市（区）代码，收到 {parent!r}")
    return region.adcode


CASE_FIELDS = ("new_7d_avg", "active", "clinic_load")


def public_county(row: dict) -> dict:
    """A county's adequacy row for the public: no case figures (a 7-day mean and active cases come from cumulative
    counts, whose differences would give suppressed small daily counts back; data/disclosure.py), and no flag
    built on them. Facilities, masks, supply points and coverage stay."""
    out = {**row, **{c: None for c in CASE_FIELDS}}
    reasons = flag_reasons(out)
    out.update(flag="；".join(reasons), flagged=bool(reasons))
    return out


def _clean(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return round(value, 6) if isinstance(value, float) else value


@bp.get("/coverage")
@http_cache.conditional
@cache.cached_response(audience)
def coverage():
    distance, level = _distance(), _level()
    parent = _parent(level)
    c = resources.coverage(distance)
    frame = {"county": c.counties, "unit": c.units, "province": c.province.to_frame().T}[level]
    if level == "province":
        frame = frame.assign(name=regions.province().name)
    if parent:
        frame = frame.loc[[r.adcode for r in regions.counties(parent)]]
    rows = [
        catalogue.only_visible(
            "coverage",
            {
                "adcode": code,
                "name": row["name"],
                "level": level,
                "distance_km": distance,
                "population": int(round(row["population"])),
                "area_km2": round(float(row["area_km2"]), 3),
                "covered_km2": round(float(row["covered_km2"]), 3),
                "covered_population": round(float(row["covered_population"])),
                "covered_share": _clean(float(row["covered_share"])),
                "demo": c.demo,
            },
            security.clearance(),
        )
        for code, row in frame.iterrows()
    ]
    return _respond(rows, f"coverage_{level}_{distance:g}km")


@bp.get("/coverage/gaps.geojson")
def coverage_gaps():
    """The uncovered part of each county (one feature per county, id adcode). The map asks for it with the data
    version in the URL (``v=``), so the browser may keep it a day."""
    distance = _distance()
    return Response(
        resources.gaps_geojson(distance),
        content_type="application/geo+json; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@bp.get("/adequacy")
@http_cache.conditional
@cache.cached_response(audience)
def adequacy_rows():
    level = _level()
    parent = _parent(level)
    day = _date_arg("date", default=queries.case_data().end)
    _in_range("date", day)
    frame = adequacy(day, level, parent, _distance())
    # clinic_load is null where unknown (no case data) and where there is no open clinic; the flag says which
    rows = [
        {
            "adcode": code,
            "level": level,
            "date": day.date().isoformat(),
            **{k: _clean(v.item() if hasattr(v, "item") else v) for k, v in row.items()},
        }
        for code, row in frame.iterrows()
    ]
    if level == "county" and security.clearance() == PUBLIC:
        rows = [public_county(row) for row in rows]
    rows = [catalogue.only_visible("adequacy", row, security.clearance()) for row in rows]
    return _respond(rows, f"adequacy_{level}_{day.date()}")
