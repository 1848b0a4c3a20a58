"""What each kind of file holds: the header synonyms officials use, and a pydantic model per row that checks
types, ranges and required fields. Personal fields of case lists are recognised so that they can be dropped
(names, phone numbers, addresses) or reduced to a keyed hash (ID numbers), never stored as written."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

from data import catalogue
from data.ingest.reading import ReadError

SYNONYMS = {
    "cases": {
        "region": (
            "地区",
            "区县",
            "所在区县",
            "区域",
            "地市",
            "城市",
            "市区",
            "行政区",
            "行政区划",
            "单位",
            "报告地区",
            "region",
            "area",
            "county",
            "city",
            "district",
        ),
        "code": ("代码", "地区代码", "区划代码", "行政区划代码", "adcode", "code"),
        "date": ("日期", "报告日期", "通报日期", "统计日期", "截至日期", "date", "reportdate", "asofdate"),
        "confirmed_cum": (
            "累计确诊",
            "确诊人数",
            "累计确诊病例",
            "累计确诊人数",
            "确诊病例",
            "确诊",
            "confirmed",
            "confirmedcum",
            "cumulativeconfirmed",
        ),
        "new_confirmed": ("新增确诊", "新增", "新增确诊病例", "当日新增", "新增病例", "new", "newconfirmed"),
        "cured_cum": ("累计治愈", "治愈", "累计出院", "出院", "治愈出院", "cured", "curedcum", "recovered"),
        "dead_cum": ("累计死亡", "死亡", "dead", "deadcum", "deaths"),
        "note": ("备注", "说明", "note", "remark"),
    },
    "case-list": {
        "date": ("报告日期", "日期", "确诊日期", "通报日期", "date", "reportdate"),
        "region": (
            "现住址区县",
            "现住区县",
            "所在区县",
            "居住地",
            "区县",
            "地区",
            "现住地",
            "region",
            "county",
            "residence",
        ),
        "sex": ("性别", "sex", "gender"),
        "age": ("年龄", "age"),
        "severity": ("病情", "临床分型", "严重程度", "分型", "severity"),
        "detection": ("发现方式", "发现途径", "detection", "howfound"),
        "contact_of": ("密切接触者来源", "关联病例", "为谁的密接", "密接来源", "contactof"),
        "case_id": ("病例编号", "编号", "caseid", "id"),
        # personal: recognised to be left out (or hashed), never stored as written
        "name": ("姓名", "name", "患者姓名"),
        "id_number": ("身份证号", "身份证", "证件号码", "idnumber", "idcard"),
        "phone": ("电话", "手机", "联系电话", "手机号", "phone", "mobile"),
        # a full address: the county (or zone, or unit) is read from it, then it is dropped like the others
        "address": ("详细地址", "住址", "现住址", "地址", "现居", "现居住地址", "居住地址", "现住地址", "address"),
        "itinerary": ("行程", "活动轨迹", "轨迹", "itinerary"),
    },
    "facilities": {
        "kind": ("类型", "设施类型", "类别", "kind", "type"),
        "name": ("名称", "机构名称", "单位名称", "设施名称", "医院名称", "药店名称", "name"),
        "address": ("地址", "详细地址", "address"),
        "county": ("区县", "所在区县", "地区", "county", "region"),
        "lon": ("经度", "lng", "lon", "longitude", "x"),
        "lat": ("纬度", "lat", "latitude", "y"),
        "status": ("状态", "运行状态", "status"),
        "daily_capacity": ("日接诊能力", "接诊能力", "capacity", "dailycapacity"),
        "beds": ("床位", "床位数", "beds"),
        "mask_stock": ("口罩库存", "库存口罩", "maskstock"),
        "vegetable_stock_t": ("储备菜", "储备量吨", "储备菜吨", "vegetablestock"),
        "crs": ("坐标系", "坐标系统", "crs"),
    },
    "flows": {
        "origin": ("迁出地", "来源地", "出发地", "origin", "from"),
        "destination": ("迁入地", "目的地", "到达地", "destination", "to"),
        "date": ("日期", "date"),
        "share_pct": ("占比", "比例", "占比%", "share", "sharepct"),
        "volume": ("流量", "人数", "人次", "规模", "volume"),
    },
}
PERSONAL_FIELDS = ("name", "id_number", "phone", "address", "itinerary")

# A case list's free-text columns are kept only as one of these standard values (the first keyword the text contains
# decides; 危重 before 重型): whatever else was typed there (a name, a phone number, an ID number) is never stored.
STANDARD_VALUES = {
    "severity": (
        ("危重", "危重型"),
        ("重型", "重型"),
        ("重症", "重型"),
        ("普通", "普通型"),
        ("轻", "轻型"),
        ("无症状", "无症状感染者"),
        ("疑似", "疑似病例"),
    ),
    "detection": (
        ("密接", "密接筛查"),
        ("密切接触", "密接筛查"),
        ("入境", "入境人员检测"),
        ("境外", "入境人员检测"),
        ("发热门诊", "主动就诊"),
        ("就诊", "主动就诊"),
        ("隔离", "隔离观察中发现"),
        ("重点人群", "重点人群检测"),
        ("核酸", "核酸筛查"),
        ("筛查", "核酸筛查"),
        ("社区", "社区排查"),
        ("排查", "社区排查"),
    ),
}
OTHER_VALUE = "其他"


def standard_value(field: str, text) -> str | None:
    """The standard value of a free-text cell: None for an empty cell, 其他 when no keyword matches."""
    text = str(text or "").strip()
    if not text:
        return None
    return next((value for word, value in STANDARD_VALUES[field] if word in text), OTHER_VALUE)


FACILITY_KINDS = {
    "发热门诊": "fever_clinic",
    "发热": "fever_clinic",
    "fever_clinic": "fever_clinic",
    "定点药店": "pharmacy",
    "药店": "pharmacy",
    "pharmacy": "pharmacy",
    "物资保障点": "supply_point",
    "储备菜投放点": "supply_point",
    "保障点": "supply_point",
    "supply_point": "supply_point",
}


def _labels(dataset: str, *names: str) -> dict[str, str]:
    return {name: catalogue.label(name, dataset) for name in names}


# Each field's name in the upload forms, error messages and ``--columns`` (docs/data.md lists them): the catalogue's
# name for a catalogued field; the rest are what a file holds before it is stored (the region and date as written,
# coordinates, a flow's two ends).
FIELD_NAMES = {
    "region": "地区",
    "date": "日期",
    **_labels("summary", "confirmed_cum", "new_confirmed", "cured_cum", "dead_cum"),
    **_labels("case_list", "age", "sex"),
    "lon": "经度",
    "lat": "纬度",
    **_labels("flows", "share_pct"),
    "volume": "流量",
    "origin": "迁出地",
    "destination": "迁入地",
    **_labels("facilities", "kind", "name", "daily_capacity", "beds"),
    **_labels("case_list", "severity", "detection"),
    **_labels("facilities", "mask_stock", "vegetable_stock_t"),
    "address": "现住址",
    "note": "备注",
    "county": "区县",
    **_labels("facilities", "status"),
}

_strict = ConfigDict(extra="ignore")


class CaseRow(BaseModel):
    model_config = _strict
    date: dt.date
    confirmed_cum: int | None = Field(None, ge=0, le=10_000_000)
    new_confirmed: int | None = Field(None, ge=0, le=1_000_000)
    cured_cum: int | None = Field(None, ge=0, le=10_000_000)
    dead_cum: int | None = Field(None, ge=0, le=10_000_000)

    @model_validator(mode="after")
    def _consistent(self):
        if self.confirmed_cum is None and self.new_confirmed is None:
            raise ValueError("缺少累计确诊或新增确诊")
        if (
            self.confirmed_cum is not None
            and self.new_confirmed is not None
            and self.new_confirmed > self.confirmed_cum
        ):
            raise ValueError("新增确诊大于累计确诊")
        if self.confirmed_cum is not None and (self.cured_cum or 0) + (self.dead_cum or 0) > self.confirmed_cum:
            raise ValueError("累计治愈与死亡之和大于累计确诊")
        return self


class CaseListRow(BaseModel):
    model_config = _strict
    date: dt.date
    age: int | None = Field(None, ge=0, le=120)
    sex: str | None = Field(None, pattern="^(男|女|未知)$")


class FacilityRow(BaseModel):
    model_config = _strict
    kind: str = Field(pattern="^(fever_clinic|pharmacy|supply_point)$")
    name: str = Field(min_length=1, max_length=200)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    daily_capacity: int | None = Field(None, ge=0, le=100_000)  # visits a day: the largest hospitals see ~20k
    beds: int | None = Field(None, ge=0, le=100_000)
    mask_stock: int | None = Field(None, ge=0, le=100_000_000)
    vegetable_stock_t: float | None = Field(None, ge=0, le=1_000_000)


class FlowRow(BaseModel):
    model_config = _strict
    date: dt.date
    share_pct: float | None = Field(None, ge=0, le=100)
    volume: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _some_measure(self):
        if self.share_pct is None and self.volume is None:
            raise ValueError("缺少占比或流量")
        return self


MODELS = {"cases": CaseRow, "case-list": CaseListRow, "facilities": FacilityRow, "flows": FlowRow}
# a case list needs a place too: 地区 or a full 现住址 (checked where the file is read)
REQUIRED = {
    "cases": ("region", "date"),
    "case-list": ("date",),
    "facilities": ("name", "kind"),
    "flows": ("origin", "destination", "date"),
}


def guess_kind(headers: set[str]) -> str | None:
    """The kind a file's recognised headers point to."""
    if {"origin", "destination"} <= headers:
        return "flows"
    if {"lon", "lat"} <= headers or "kind" in headers and "name" in headers:
        return "facilities"
    if headers & {"sex", "age", "id_number", "severity", "case_id", "name"}:
        return "case-list"
    if headers & {"confirmed_cum", "new_confirmed"}:
        return "cases"
    return None


# The fields the mapping form on /data offers for each kind: the required ones first, then what makes the figures.
FORM_FIELDS = {
    "cases": ("region", "date", "confirmed_cum", "new_confirmed", "cured_cum", "dead_cum", "note"),
    "case-list": ("date", "region", "address", "sex", "age", "severity", "detection"),
    "facilities": ("kind", "name", "lon", "lat", "county", "address", "status", "daily_capacity", "mask_stock"),
    "flows": ("origin", "destination", "date", "share_pct", "volume"),
}


def field_key(name: str, kind: str | None = None) -> str | None:
    """A field as docs/data.md names it (迁入地, 累计确诊) or by its key (destination), for the given kind or any."""
    name = name.strip()
    keys = [
        k
        for k, words in (
            SYNONYMS[kind] if kind else {k: w for kind_words in SYNONYMS.values() for k, w in kind_words.items()}
        ).items()
        if name == k or name == FIELD_NAMES.get(k) or name in words
    ]
    return keys[0] if keys else None


def parse_columns(text: str, kind: str | None = None) -> dict[str, str]:
    """``迁入地=dest,迁出地=origin,流量=idx`` -> {"destination": "dest", ...}; an unknown field is a ValueError naming
    the fields there are."""
    mapping = {}
    for pair in filter(None, (p.strip() for p in text.replace("，", ",").split(","))):
        field, sep, column = pair.partition("=")
        key = field_key(field, kind)
        if not sep or not column.strip() or key is None:
            known = "、".join(dict.fromkeys(FIELD_NAMES.get(k, k) for k in (SYNONYMS[kind] if kind else FIELD_NAMES)))
            raise ReadError(f"--columns 中的“{pair}”无法识别：应为 字段=列名，字段可为 {known}。")
        mapping[key] = column.strip()
    return mapping


def with_columns(synonyms: dict[str, tuple[str, ...]], columns: dict[str, str] | None) -> dict[str, tuple[str, ...]]:
    """The synonym table with the officer's own column names: each mapped field is found under its column (and
    that column under no other field)."""
    if not columns:
        return synonyms
    taken = set(columns.values())
    out = {key: tuple(w for w in words if w not in taken) for key, words in synonyms.items()}
    for key, column in columns.items():
        out[key] = (column, *out.get(key, ()))
    return out
