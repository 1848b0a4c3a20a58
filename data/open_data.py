"""The open-data package: the public aggregates as a Frictionless Data Package (datapackage.json + CSV files).

`flask --app app:server export-open-data --out DIR`. Only 公开 fields of the catalogue (data/catalogue.py) go in;
county counts are always small-count suppressed here (data/disclosure.py), whoever runs the command. Population
flows stay out: Baidu's terms (non-commercial, informational use) are not an open licence.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select

from data import catalogue, disclosure, queries, store
from data.catalogue import PUBLIC, Field
from data.spreadsheet import formula_safe
from geo import regions

LICENCE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0 International",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
SOURCES = [
    {
        "title": "陕西省及各市卫生健康委员会疫情通报，经 canghailan/Wuhan-2019-nCoV 整理（MIT 许可）",
        "path": "https://github.com/canghailan/Wuhan-2019-nCoV",
    },
    {
        "title": "国家统计局《中国人口普查分县资料2020》、陕西省第七次全国人口普查公报（常住人口）",
        "path": "https://www.stats.gov.cn/",
    },
]
DEMO = "演示数据"


def _f(name: str, title: str, type_: str, description: str = "", **kw) -> Field:
    """A column of the package that is not a field of a served data set; public like every column here."""
    return Field(name, title, type_, PUBLIC, description, **kw)


_summary = catalogue.DATASETS["summary"].field
_region = catalogue.DATASETS["regions"].field

DAILY_FIELDS = (
    _summary("date"),
    _summary("adcode"),
    _summary("name"),
    _summary("level"),
    _summary("confirmed_cum"),
    _summary("cured_cum"),
    _summary("dead_cum"),
    _summary("active"),
    _summary("new_confirmed"),
    _summary("status"),
)
COUNTY_FIELDS = (
    _summary("date"),
    _summary("adcode"),
    _summary("name"),
    _region("parent_adcode"),
    replace(
        _summary("new_confirmed"), description="例；1–2 例及互补抑制的格为空，见 suppression 与 new_confirmed_shown"
    ),
    _f(
        "new_confirmed_shown",
        f"{_summary('new_confirmed').title}（显示）",
        "string",
        description="对外显示的值：数字，或 <3",
    ),
    _summary("suppression"),
    _summary("status"),
)
_facility = catalogue.DATASETS["facilities"].field
FACILITY_FIELDS = (
    replace(_facility("county_adcode"), nullable=False),
    _f("county_name", "区县", "string"),
    _region("parent_adcode"),
    replace(_facility("kind"), description="fever_clinic 发热门诊 / pharmacy 定点药店 / supply_point 物资保障点"),
    _f("count", "数量", "integer", nullable=False),
    _f("is_demo", DEMO, "boolean", nullable=False, description="true：系统按人口生成的演示数据，非真实设施"),
)


def _write_csv(path: Path, frame: pd.DataFrame, columns: list[str]) -> None:
    frame = formula_safe(frame[columns])  # no text here may run as a formula in Excel
    frame.to_csv(path, index=False, encoding="utf-8", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")


def _ints(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").round().astype("Int64")


def _daily(eng) -> pd.DataFrame:
    data = queries.case_data(eng)
    codes = ["610000"] + [u.adcode for u in regions.units()]
    daily = data.daily.loc[[c for c in codes if c in data.daily.index.get_level_values(0)]].reset_index()
    return pd.DataFrame(
        {
            "date": daily["date"].dt.strftime("%Y-%m-%d"),
            "adcode": daily["adcode"],
            "name": [regions.get(c).display_name for c in daily["adcode"]],
            "level": [regions.get(c).level for c in daily["adcode"]],
            **{c: _ints(daily[c]) for c in ("confirmed_cum", "cured_cum", "dead_cum", "active", "new_confirmed")},
            "status": daily["status"],
        }
    ).sort_values(["date", "adcode"])


def _counties(eng) -> pd.DataFrame:
    data = queries.case_data(eng)
    have = set(data.daily.index.get_level_values(0))
    # 杨凌示范区 and 韩城市 are counties that report as units: their exact figures are in daily_province_units
    codes = [c.adcode for c in regions.counties() if c.adcode in have and regions.get(c.adcode).level == "county"]
    columns = [f.name for f in COUNTY_FIELDS]
    if not codes:
        return pd.DataFrame(columns=columns)
    daily = data.daily.loc[codes].reset_index()
    marks = disclosure.county_marks(eng)
    flags = [marks.get((c, d)) if len(marks) else None for c, d in zip(daily["adcode"], daily["date"])]
    new = _ints(daily["new_confirmed"]).astype(object)
    new = [None if flag or pd.isna(v) else int(v) for v, flag in zip(new, flags)]
    return pd.DataFrame(
        {
            "date": daily["date"].dt.strftime("%Y-%m-%d"),
            "adcode": daily["adcode"],
            "name": [regions.get(c).name for c in daily["adcode"]],
            "parent_adcode": [regions.get(c).parent_adcode for c in daily["adcode"]],
            "new_confirmed": pd.array(new, dtype="Int64"),
            "new_confirmed_shown": [
                disclosure.shown(v, f) if s != "missing" else "" for v, f, s in zip(new, flags, daily["status"])
            ],
            "suppression": [f or "" for f in flags],
            "status": daily["status"],
        }
    ).sort_values(["date", "adcode"])


def _facilities(eng) -> pd.DataFrame:
    f, b = store.facilities, store.batches
    with eng.connect() as conn:
        counts = store.frame(
            conn,
            select(f.c.county_adcode, f.c.kind, f.c.is_demo, func.count().label("count"))
            .join(b, b.c.id == f.c.batch_id)
            .where(b.c.status == "active")
            .group_by(f.c.county_adcode, f.c.kind, f.c.is_demo),
        )
    counts["county_name"] = [regions.get(c).name if regions.get(c) else "" for c in counts.county_adcode]
    counts["parent_adcode"] = [regions.get(c).parent_adcode if regions.get(c) else "" for c in counts.county_adcode]
    counts["is_demo"] = counts["is_demo"].astype(bool).map({True: "true", False: "false"})
    return counts.sort_values(["county_adcode", "kind", "is_demo"])


def _regions() -> pd.DataFrame:
    table = regions.table()
    return pd.DataFrame(
        {
            "adcode": table.adcode,
            "name": table.name,
            "level": table.level,
            "parent_adcode": table.parent_adcode,
            "admin_parent_adcode": table.admin_parent_adcode,
            "population": table.population.astype("Int64"),
        }
    )


def _resource(name: str, title: str, description: str, fields, key=None, demo=False, sources=None) -> dict:
    return {
        "name": name,
        "path": f"{name}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "title": title + (f"（{DEMO}）" if demo else ""),
        "description": description,
        "schema": catalogue.table_schema(fields, key),
        "licenses": [LICENCE],
        "sources": sources or SOURCES,
    }


def export(out: Path, eng=None) -> dict:
    """Write the package into ``out`` (created if missing); returns the descriptor."""
    eng = eng or store.engine()
    out.mkdir(parents=True, exist_ok=True)
    data = queries.case_data(eng)
    facilities = _facilities(eng)
    any_demo = (facilities["is_demo"] == "true").any()
    parts = [
        (
            _regions(),
            _resource(
                "regions",
                "行政区划与常住人口",
                "省、12个报告单位（10市、杨凌示范区、韩城市）与107个县（区）；"
                "parent_adcode 为报告上级，admin_parent_adcode 为行政上级",
                catalogue.REGION_FIELDS,
                ["adcode", "level"],
            ),
        ),
        (
            _daily(eng),
            _resource(
                "daily_province_units",
                "全省与各市（区）每日疫情数字",
                "截至每日24时的累计确诊、治愈、死亡、现有与新增；准确数。status：reported 已上报、"
                "missing 未上报（数字为空，不是0）、before_first 首例前",
                DAILY_FIELDS,
                ["date", "adcode"],
            ),
        ),
        (
            _counties(eng),
            _resource(
                "daily_counties",
                "各县（区）每日新增确诊（小数抑制）",
                "来自病例个案的县级每日新增；1–2 例显示为 <3（small_count），并做互补抑制（complementary），"
                "使市（区）合计减去可见县数不能反推被抑制的格；县级不发布累计数（其逐日差会还原被抑制的数）",
                COUNTY_FIELDS,
                ["date", "adcode"],
            ),
        ),
        (
            facilities,
            _resource(
                "facilities_by_county",
                "各县（区）防控设施数量",
                "发热门诊、定点药店、物资保障点的数量；is_demo 为 true 的是系统按人口生成的演示数据，非真实设施",
                FACILITY_FIELDS,
                ["county_adcode", "kind", "is_demo"],
                demo=any_demo,
                sources=[
                    {"title": "演示数据：按常住人口在真实县界内生成（种子固定）" if any_demo else "上传的设施名单"}
                ],
            ),
        ),
    ]
    for frame, resource in parts:
        _write_csv(out / resource["path"], frame, [f["name"] for f in resource["schema"]["fields"]])
    descriptor = {
        "profile": "tabular-data-package",
        "name": "shaanxi-epidemic-open-data",
        "title": "陕西省疫情防控开放数据（汇总）",
        "description": (
            "公开（非涉密）的汇总数据：全省与各市（区）准确数，县（区）数经小数抑制；不含任何个人信息，"
            "不含人口流动（百度迁徙数据的条款为非商业、仅供参考，不能以开放许可再发布）。"
            f"数据截至 {data.end.isoformat()}。"
        ),
        "version": data.version,
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "keywords": ["COVID-19", "陕西", "疫情", "开放数据"],
        "licenses": [LICENCE],
        "sources": SOURCES + [{"title": s} for s in data.sources if s],
        "resources": [resource for _, resource in parts],
    }
    (out / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False, indent=2), encoding="utf-8")
    return descriptor
