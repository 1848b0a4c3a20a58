"""The OpenAPI 3.0 document of ``/api/v1`` (served at ``/api/v1/openapi.json``), next to the code it describes.

Row schemas come from the catalogue (data/catalogue.py), so a field the API serves and its description are
declared once; the endpoints and their parameters are written here by hand, one entry per route in api/v1.py.
A schemathesis test (tests/test_openapi.py) runs this document against the app.
"""

from __future__ import annotations

from functools import lru_cache

from analytics import forecast as forecast_model
from api import http_cache
from data import catalogue

ADCODE = {
    "type": "string",
    "pattern": "^[0-9]{6}$",
    "example": "610100",
    "description": "GB/T 2260 六位行政区划代码：610000 全省、610100 西安市、610113 雁塔区",
}
DATE = {"type": "string", "format": "date", "example": "2020-02-15"}
FORMAT = {
    "name": "format",
    "in": "query",
    "required": False,
    "description": "csv：CSV（UTF-8 带 BOM）；默认 JSON",
    "schema": {"type": "string", "enum": ["json", "csv"]},
}


def _param(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _ok(schema: dict, description: str, csv: bool = False) -> dict:
    content = {"application/json": {"schema": schema}}
    if csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    return {"description": description, "content": content}


def _rows(name: str) -> dict:
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}


REGION = _param("region", ADCODE, "地区代码", required=True)
LEVEL = _param(
    "level",
    {"type": "string", "enum": ["county", "unit", "province"], "default": "unit"},
    "county 各县（区）；unit 12个报告单位；province 全省",
)
PARENT = _param("parent", ADCODE, "只用于 level=county：某市（区）代码，只列其所辖县（区）")
DISTANCE = _param(
    "distance_km", {"type": "integer", "enum": [5, 10, 20, 30], "default": 10}, "发热门诊可达的直线距离（公里）"
)
ERRORS = {
    "400": _error("参数错误（缺少、格式不对或超出数据范围）；error 说明是哪个参数"),
    "404": _error("未知地区代码"),
}


MOMENT = {"type": "string", "format": "date-time", "description": "北京时间，ISO 8601（+08:00）"}
STATUS = {
    "type": "string",
    "enum": ["sent", "received", "in_progress", "done"],
    "description": "sent 已派发、received 已接收、in_progress 处理中、done 已完成",
}
TASK = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id",
        "region_adcode",
        "region",
        "title",
        "detail",
        "due_at",
        "status",
        "overdue",
        "created_by",
        "created_at",
        "events",
    ],
    "properties": {
        "id": {"type": "integer"},
        "region_adcode": ADCODE,
        "region": {"type": "string", "description": "地区名称"},
        "title": {"type": "string", "description": "任务：做什么"},
        "detail": {"type": "string", "nullable": True, "description": "说明"},
        "due_at": {**MOMENT, "description": "截止时间（北京时间）"},
        "status": STATUS,
        "overdue": {"type": "boolean", "description": "未完成且已过截止时间"},
        "created_by": {"type": "string", "description": "派发人"},
        "created_at": MOMENT,
        "events": {
            "type": "array",
            "description": "处理经过，先后为序（第一步为派发）",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["status", "note", "by", "at"],
                "properties": {
                    "status": STATUS,
                    "note": {"type": "string", "nullable": True, "description": "说明"},
                    "by": {"type": "string", "description": "操作人"},
                    "at": MOMENT,
                },
            },
        },
    },
}


# HTTP caching (api/http_cache.py): which operations answer with a public, revalidatable answer to anonymous callers
CACHED = (
    "/api/v1/regions",
    "/api/v1/summary",
    "/api/v1/timeseries",
    "/api/v1/forecast",
    "/api/v1/facilities",
    "/api/v1/flows",
    "/api/v1/coverage",
    "/api/v1/adequacy",
    "/api/v1/openapi.json",
)
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "之前应答的 ETag（可多个，弱比较）：数据与查询未变时回 304、无正文，应答不再生成",
    "schema": {"type": "string"},
}
CACHE_CONTROL = {
    "description": (
        f"匿名调用的成功应答：{http_cache.PUBLIC_CACHE}（共享缓存与浏览器可保存 {http_cache.MAX_AGE} 秒，"
        f"过期后 {http_cache.STALE_WHILE_REVALIDATE} 秒内可先用旧应答、同时用 ETag 重新验证）；登录用户："
        f"{http_cache.PRIVATE}；错误应答及不随数据版本变化的接口：{http_cache.NO_STORE}"
    ),
    "required": False,
    "schema": {"type": "string"},
}
ETAG = {
    "description": (
        "仅匿名调用的成功应答：由数据版本、路径、查询参数、格式与程序版本得出；两个不同查询的 ETag 永不相同，"
        "新批次、修订或回滚后即变。经 nginx 压缩的应答为弱 ETag（W/…）"
    ),
    "required": False,
    "schema": {"type": "string"},
}
NOT_MODIFIED = {
    "description": "未修改：If-None-Match 与当前 ETag 相同（仅匿名调用），无正文",
    "headers": {"ETag": ETAG, "Cache-Control": CACHE_CONTROL},
}
NEVER_STORED = {
    "description": f"{http_cache.NO_STORE}（登录用户 {http_cache.PRIVATE}）：此接口的应答随时间或操作而变，不缓存",
    "required": False,
    "schema": {"type": "string"},
}


def _with_caching(paths: dict) -> dict:
    """The caching headers on every operation: If-None-Match, ETag and 304 where answers are public and versioned,
    Cache-Control on every success."""
    for path, item in paths.items():
        op = item["get"]
        if path in CACHED:
            op["parameters"] = [*op.get("parameters", []), IF_NONE_MATCH]
            op["responses"]["200"]["headers"] = {"ETag": ETAG, "Cache-Control": CACHE_CONTROL}
            op["responses"]["304"] = NOT_MODIFIED
        elif path == "/api/v1/coverage/gaps.geojson":
            op["responses"]["200"]["headers"] = {
                "Cache-Control": {
                    "description": "public, max-age=86400：地图用带数据版本的地址（v=）请求",
                    "required": False,
                    "schema": {"type": "string"},
                }
            }
        else:
            op["responses"]["200"]["headers"] = {"Cache-Control": NEVER_STORED}
    return paths


@lru_cache(maxsize=1)
def document() -> dict:
    feature = {
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": {
                "type": "object",
                "required": ["type", "coordinates"],
                "properties": {
                    "type": {"type": "string", "enum": ["Point"]},
                    "coordinates": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                },
            },
            "properties": catalogue.json_schema("facilities"),
        },
    }
    doc = {
        "openapi": "3.0.3",
        "info": {
            "title": "陕西省疫情防控态势感知看板 开放数据接口",
            "version": "1",
            "description": (
                "只读、公开（匿名可用）。JSON 为 UTF-8；format=csv 给出 CSV。匿名调用者看到的县级数字经小数抑制："
                "每日新增 1–2 例为空并标 suppression=small_count（显示为 <3），互补抑制的格标 complementary，"
                "县级不给累计数及由其导出的数字；省与市（区）为准确数。任何个人信息（姓名、身份证号、电话、地址、行程）"
                "都不会出现在响应中。字段分级见 README“分级分类”。"
            ),
            "license": {
                "name": "CC-BY-4.0（汇总数据）；迁徙数据保留百度声明：非商业、仅供参考",
                "url": "https://creativecommons.org/licenses/by/4.0/",
            },
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/v1/regions": {
                "get": {
                    "operationId": "regions",
                    "summary": "行政区划与人口（省、12个报告单位、107个县区）",
                    "parameters": [FORMAT],
                    "responses": {"200": _ok(_rows("Region"), "全部地区", csv=True), "400": ERRORS["400"]},
                }
            },
            "/api/v1/summary": {
                "get": {
                    "operationId": "summary",
                    "summary": "某地区某日（截至24时）的数字",
                    "parameters": [REGION, _param("date", DATE, "截至日期；默认最新一天"), FORMAT],
                    "responses": {
                        "200": _ok({"$ref": "#/components/schemas/Summary"}, "该地区该日（CSV 为一行）", csv=True),
                        **ERRORS,
                    },
                }
            },
            "/api/v1/timeseries": {
                "get": {
                    "operationId": "timeseries",
                    "summary": "某地区每日一行，字段同 summary",
                    "parameters": [
                        REGION,
                        _param("start", DATE, "开始日期；默认数据首日"),
                        _param("end", DATE, "结束日期；默认数据末日"),
                        FORMAT,
                    ],
                    "responses": {"200": _ok(_rows("Summary"), "每日一行", csv=True), **ERRORS},
                }
            },
            "/api/v1/forecast": {
                "get": {
                    "operationId": "forecast",
                    "summary": "每日新增确诊预测：中位数与50%、90%预测区间（组合模型）",
                    "description": (
                        f"model: ensemble（{forecast_model.MODEL_NAMES['ensemble']}）。"
                        f"method: {forecast_model.METHOD}"
                        "区县预测仅向登录用户提供（匿名为 403）。"
                    ),
                    "parameters": [
                        REGION,
                        _param("date", DATE, "起报日（只用这天及以前的数据）；默认最新一天"),
                        _param(
                            "horizon",
                            {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": forecast_model.HORIZON,
                                "default": forecast_model.HORIZON,
                            },
                            "预测天数",
                        ),
                        FORMAT,
                    ],
                    "responses": {
                        "200": _ok(
                            {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["date", *forecast_model.API_FIELDS],
                                    "properties": {
                                        "date": DATE,
                                        **{f: {"type": "integer", "minimum": 0} for f in forecast_model.API_FIELDS},
                                    },
                                },
                            },
                            "起报日之后每日一行；该地区无数据时为空数组",
                            csv=True,
                        ),
                        "403": _error("区县预测需登录"),
                        **ERRORS,
                    },
                }
            },
            "/api/v1/facilities": {
                "get": {
                    "operationId": "facilities",
                    "summary": "防控设施（GeoJSON）；随附数据为演示数据",
                    "parameters": [
                        REGION,
                        {
                            "name": "kind",
                            "in": "query",
                            "required": False,
                            "description": "设施类型，可重复；默认全部",
                            "style": "form",
                            "explode": True,
                            "schema": {
                                "type": "array",
                                "items": {"type": "string", "enum": ["fever_clinic", "pharmacy", "supply_point"]},
                            },
                        },
                        FORMAT,
                    ],
                    "responses": {
                        "200": _ok(
                            {
                                "type": "object",
                                "required": ["type", "features", "demo", "notice"],
                                "properties": {
                                    "type": {"type": "string", "enum": ["FeatureCollection"]},
                                    "features": {"type": "array", "items": feature},
                                    "demo": {"type": "boolean", "description": "含演示数据"},
                                    "notice": {"type": "string"},
                                },
                            },
                            "GeoJSON FeatureCollection；CSV 为每个设施一行（含经纬度）",
                            csv=True,
                        ),
                        **ERRORS,
                    },
                }
            },
            "/api/v1/flows": {
                "get": {
                    "operationId": "flows",
                    "summary": "人口流动：迁入来源或迁出目的地，占比从大到小",
                    "parameters": [
                        REGION,
                        _param("date", DATE, "日期（迁徙数据范围内）", required=True),
                        _param(
                            "direction",
                            {"type": "string", "enum": ["in", "out"], "default": "in"},
                            "in 迁入来源；out 迁出目的地",
                        ),
                        _param(
                            "level",
                            {"type": "string", "enum": ["city", "province"], "default": "city"},
                            "对方地区的层级",
                        ),
                        FORMAT,
                    ],
                    "responses": {"200": _ok(_rows("Flow"), "占比从大到小", csv=True), **ERRORS},
                }
            },
            "/api/v1/coverage": {
                "get": {
                    "operationId": "coverage",
                    "summary": "发热门诊覆盖：距开放发热门诊直线距离内的人口（演示设施）",
                    "parameters": [LEVEL, PARENT, DISTANCE, FORMAT],
                    "responses": {"200": _ok(_rows("Coverage"), "每地区一行", csv=True), "400": ERRORS["400"]},
                }
            },
            "/api/v1/coverage/gaps.geojson": {
                "get": {
                    "operationId": "coverage_gaps",
                    "summary": "各县（区）未覆盖部分（GeoJSON，WGS84，已简化）；地图图层的来源",
                    "parameters": [DISTANCE],
                    "responses": {
                        "200": {
                            "description": "GeoJSON FeatureCollection，每县一个要素，id 为地区代码",
                            "content": {"application/geo+json": {"schema": {"type": "object"}}},
                        },
                        "400": ERRORS["400"],
                    },
                }
            },
            "/api/v1/adequacy": {
                "get": {
                    "operationId": "adequacy",
                    "summary": "资源保障：门诊负荷、口罩可用天数、物资保障点、覆盖及低于阈值的提示",
                    "parameters": [LEVEL, PARENT, _param("date", DATE, "截至日期；默认最新一天"), DISTANCE, FORMAT],
                    "responses": {"200": _ok(_rows("Adequacy"), "每地区一行", csv=True), "400": ERRORS["400"]},
                }
            },
            "/api/v1/alerts": {
                "get": {
                    "operationId": "alerts",
                    "summary": "最新数据日的预警，级别高者在前（公开调用不含县级预警与确认人）",
                    "parameters": [FORMAT],
                    "responses": {
                        "200": _ok(_rows("Alert"), "当前预警", csv=True),
                        "400": ERRORS["400"],
                        "503": _error("预警规则文件有误，暂未评估"),
                    },
                }
            },
            "/api/v1/reporting-status": {
                "get": {
                    "operationId": "reporting_status",
                    "summary": "报送看板：某日各市（区）及有账号的县（区）日报 已报/迟报/未报",
                    "description": (
                        "截止时间默认为次日 09:00（北京时间，REPORT_DEADLINE 可改）；随系统提供的历史数据记为已报、"
                        "reported_at 为空。上报人 by 只给登录用户。不缓存。"
                    ),
                    "parameters": [
                        _param("date", DATE, "报送的数据日（截至该日24时）；默认今天（北京时间），不能晚于今天"),
                        FORMAT,
                    ],
                    "responses": {
                        "200": _ok(_rows("ReportingStatus"), "12个报告单位及有账号的县（区），各一行", csv=True),
                        "400": ERRORS["400"],
                    },
                }
            },
            "/api/v1/tasks": {
                "get": {
                    "operationId": "tasks",
                    "summary": "跟进任务（仅登录用户；限本账号地区）：未完成的在前，各含全部处理经过",
                    "description": "匿名调用为 401。不缓存：任务的派发与处理不改变数据版本。"
                    "CSV 为每个处理步骤一行（任务字段重复，"
                    "步骤字段前缀 event_）。",
                    "parameters": [
                        _param("region", ADCODE, "只列该地区（市含所辖县区）的任务"),
                        _param(
                            "status",
                            {"type": "string", "enum": ["sent", "received", "in_progress", "done"]},
                            "只列该状态：sent 已派发、received 已接收、in_progress 处理中、done 已完成",
                        ),
                        FORMAT,
                    ],
                    "responses": {
                        "200": _ok(_rows("Task"), "任务及其处理经过", csv=True),
                        "400": ERRORS["400"],
                        "401": _error("未登录"),
                        "404": ERRORS["404"],
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "本文档",
                    "responses": {"200": _ok({"type": "object"}, "OpenAPI 3.0 文档")},
                }
            },
        },
        "components": {
            "schemas": {
                "Region": catalogue.json_schema("regions"),
                "Summary": catalogue.json_schema("summary"),
                "Flow": catalogue.json_schema("flows"),
                "Coverage": catalogue.json_schema("coverage"),
                "Adequacy": catalogue.json_schema("adequacy"),
                "Alert": catalogue.json_schema("alerts"),
                "Task": TASK,
                "ReportingStatus": catalogue.json_schema("reporting"),
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string", "description": "一句中文，说明哪个参数有什么问题"}},
                },
            }
        },
    }
    _with_caching(doc["paths"])
    return doc
