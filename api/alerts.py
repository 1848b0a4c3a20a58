"""``GET /api/v1/alerts``: the alerts of the latest data day, most pressing first (JSON; ``format=csv`` for CSV).

Not cached with the other responses: an acknowledgement changes the answer without a new data version. Who
acknowledged an alert is given to internal callers only (security.clearance); the public see whether and when.
"""
from __future__ import annotations

import io
import logging

import pandas as pd
from flask import Blueprint, Response, jsonify, request

import security
from analytics.alerts import BEIJING
from data import alerts

log = logging.getLogger(__name__)
bp = Blueprint("api_v1_alerts", __name__, url_prefix="/api/v1")


def _iso(moment) -> str | None:
    return moment.astimezone(BEIJING).isoformat(timespec="seconds") if moment is not None else None


def rows(current: alerts.Current, internal: bool) -> list[dict]:
    out = []
    for a in current.alerts:
        row = {"id": a["id"], "rule_id": a["rule_id"], "rule_name": a["rule_name"], "severity": a["severity"],
               "adcode": a["adcode"], "region": a["region"], "day": a["day"].isoformat(), "value": a["value"],
               "message": a["message"], "raised_at": _iso(a["raised_at"]),
               "acknowledged": a["acknowledged_at"] is not None, "acknowledged_at": _iso(a["acknowledged_at"])}
        if internal:
            row["acknowledged_by"] = a["acknowledged_by"]
        out.append(row)
    return out


@bp.get("/alerts")
def list_alerts():
    try:
        current = alerts.current()
    except Exception:  # noqa: BLE001  (never a trace to the caller; the operators get it in the log)
        log.exception("API failure on %s", request.full_path)
        return jsonify({"error": "服务器内部错误，请稍后重试或联系管理员"}), 500
    if current.error:
        return jsonify({"error": current.error}), 503
    data = rows(current, security.clearance() == security.INTERNAL)
    if request.args.get("format") == "csv":
        buffer = io.StringIO()
        pd.DataFrame(data, columns=list(data[0]) if data else ["id", "rule_id", "severity", "region", "message"]
                     ).to_csv(buffer, index=False)
        return Response("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename=alerts.csv"})
    return jsonify(data)
