"""分级分类: every data set and every field this system holds, with its level.

- 公开 (public): may be shown to anyone, served by the anonymous API and written to the open-data package;
  county counts only after small-count suppression (data/disclosure.py).
- 内部 (internal): signed-in staff only (the pages, the upload reports, exact county counts).
- 敏感 (sensitive): personal data. Never rendered, exported or served. Names, phone numbers, exact addresses
  and itineraries are not even stored; an ID number only as a keyed hash (to find repeated reports).

One list, read by the API (what each endpoint may return, and its OpenAPI schema), by the exports (which columns
of an uploaded file may be echoed back) and by the open-data package (table schemas, titles, descriptions).
A field that is not catalogued is not served.

It is also the one place a field is named: its header (``title``) in tables, downloads and schemas, its name in
controls and upload forms (``label``), its unit and the decimals the pages show. The map's metrics are listed here
(``MAP_METRICS``); the pages, figures, downloads, the briefing pack and the ingest look names up rather than
writing them again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PUBLIC, INTERNAL, SENSITIVE = "公开", "内部", "敏感"  # the levels of the classification
LEVELS = (PUBLIC, INTERNAL, SENSITIVE)  # in order of how far a field may go
_RANK = {level: i for i, level in enumerate(LEVELS)}


@dataclass(frozen=True)
class Field:
    name: str
    title: str  # Chinese, as in table headers, exports, the API's schema and the open-data package
    type: str  # Frictionless Table Schema type: string, integer, number, date, boolean, array, object
    level: str = PUBLIC
    description: str = ""
    nullable: bool = True
    stored: bool = True  # False: recognised in uploads only to be dropped
    unit: str = ""  # what one of it counts, as a figure's axis or hover says it (例, 例/10万人); "" for an index
    digits: int = 0  # decimals the pages show
    display_label: str = ""  # its name in controls and upload forms where that is not its header (实时再生数 Rt)

    @property
    def label(self) -> str:
        """The field's name in the pages' controls, legends and upload forms."""
        return self.display_label or self.title


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    level: str
    description: str
    fields: tuple[Field, ...] = field(default_factory=tuple)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def _f(name, title, type_, level=PUBLIC, description="", **kw) -> Field:
    return Field(name, title, type_, level, description, **kw)


REGION_FIELDS = (
    _f("adcode", "行政区划代码", "string", description="GB/T 2260 六位代码", nullable=False),
    _f("name", "名称", "string", nullable=False),
    _f("level", "层级", "string", description="province 省 / unit 市（区）报告单位 / county 县（区）", nullable=False),
    _f("parent_adcode", "上级报告单位代码", "string", description="县的上级报告单位；省为空"),
    _f(
        "admin_parent_adcode",
        "行政上级代码",
        "string",
        description="行政隶属的上级（杨凌示范区、韩城市与报告单位不同）",
    ),
    _f("population", "常住人口", "integer", description="第七次全国人口普查（2020）", nullable=False),
)

_COUNT = "例"
_PER_100K = "例/10万人"
SUMMARY_FIELDS = (
    _f("adcode", "地区代码", "string", nullable=False),
    _f("name", "地区", "string", nullable=False),
    _f("level", "层级", "string", nullable=False),
    _f("date", "截至日期", "date", description="数字为截至该日24时", nullable=False),
    _f(
        "confirmed_cum",
        "累计确诊",
        "integer",
        description=f"{_COUNT}；县级公开数据不给出（其逐日差会还原被抑制的小数）",
        unit=_COUNT,
    ),
    _f("cured_cum", "累计治愈", "integer", description=_COUNT, unit=_COUNT),
    _f("dead_cum", "累计死亡", "integer", description=_COUNT, unit=_COUNT),
    _f("active", "现有确诊", "integer", description=_COUNT, unit=_COUNT),
    _f(
        "new_confirmed",
        "新增确诊",
        "integer",
        description=f"{_COUNT}；县级公开数据中 1–2 例及互补抑制的格为空，见 suppression",
        unit=_COUNT,
    ),
    _f("new_7d", "近7日新增", "integer", description=_COUNT, unit=_COUNT),
    _f("new_cured", "新增治愈", "integer", unit=_COUNT),
    _f("new_dead", "新增死亡", "integer", unit=_COUNT),
    _f("correction_confirmed", "核减订正", "integer", description="累计确诊下调的例数", unit=_COUNT),
    _f("span_days", "跨越天数", "integer", description="本次上报覆盖此前未上报的天数"),
    _f("incidence_7d_per_100k", "每10万人近7日新增", "number", unit=_PER_100K, digits=3),
    _f("confirmed_per_100k", "每10万人累计确诊", "number", unit=_PER_100K, digits=2),
    _f("population", "常住人口", "integer"),
    _f(
        "risk_level",
        "风险等级",
        "string",
        description="low / medium / high（2020-02-17 分区分级标准，用于市、县；全省不分级，为空）",
    ),
    _f("rt", "Rt", "number", description="有效再生数（后验中位数）", digits=2, display_label="实时再生数 Rt"),
    _f("rt_low", "Rt下限(95%)", "number", digits=2),
    _f("rt_high", "Rt上限(95%)", "number", digits=2),
    _f("rt_cases_in_window", "Rt窗口内病例数", "integer"),
    _f("growth_rate", "日增长率", "number"),
    _f("doubling_time_days", "倍增时间（天）", "number", unit="天", digits=1, display_label="倍增时间"),
    _f("halving_time_days", "减半时间（天）", "number", unit="天", digits=1, display_label="减半时间"),
    _f(
        "growth_trend",
        "增长趋势",
        "string",
        description="growing / declining / stable（日增长率在 ±ln2/60 以内为稳定，不给倍增或减半时间）",
    ),
    _f("days_since_last_case", "距最近新增（天）", "integer", unit="天"),
    _f(
        "status",
        "上报状态",
        "string",
        description="reported / missing / before_first / no_data / out_of_range",
        nullable=False,
    ),
    _f(
        "basis",
        "口径",
        "string",
        description="本级通报数 / 下级合计 / 病例个案汇总 / 各市（区）、境外输入与未公布来源之和 / 未上报",
    ),
    _f(
        "cumulative_from",
        "累计起算日",
        "date",
        description="病例个案汇总的累计数自此日起计（此前属于更早的疫情）；为空时自首次报告起",
    ),
    _f("data_as_of", "数据截至", "date", nullable=False),
    _f("sources", "来源", "array", nullable=False),
    _f("confirmed_cum_change", "累计确诊较前日", "integer"),
    _f("active_change", "现有确诊较前日", "integer"),
    _f("new_confirmed_change", "新增确诊较前日", "integer"),
    _f("cured_cum_change", "累计治愈较前日", "integer"),
    _f("dead_cum_change", "累计死亡较前日", "integer"),
    _f(
        "suppression",
        "小数抑制",
        "string",
        description="公开的县级数据：small_count（1–2例，显示为<3）、complementary（互补抑制，防止由合计反推）；否则为空",
    ),
)

FLOW_FIELDS = (
    _f("counterpart_adcode", "对方地区代码", "string", nullable=False),
    _f("counterpart_name", "对方地区", "string"),
    _f("share_pct", "占比%", "number", nullable=False, display_label="占比"),
    _f("index", "相对流量", "number", description="占比 × 百度迁徙规模指数 ÷ 100"),
    _f("share_change_7d", "占比较7日前（百分点）", "number"),
)

FACILITY_FIELDS = (
    _f("kind", "类型", "string", nullable=False),
    _f("name", "名称", "string", nullable=False),
    _f("address", "地址", "string", description="机构地址（不是个人地址）"),
    _f("county_adcode", "区县代码", "string"),
    _f("unit_adcode", "报告单位代码", "string"),
    _f("status", "状态", "string"),
    _f("daily_capacity", "日接诊能力", "integer"),
    _f("beds", "床位", "integer"),
    _f("hospital_level", "医院等级", "string"),
    _f("daily_visits", "日接诊量", "integer"),
    _f("mask_stock", "口罩库存", "integer"),
    _f("vegetable_stock_t", "储备菜（吨）", "number", unit="吨", display_label="储备菜"),
    _f("opening_hours", "开放时间", "string"),
    _f("note", "说明", "string"),
    _f("is_demo", "演示数据", "boolean", nullable=False),
)

COVERAGE_FIELDS = (
    _f("adcode", "地区代码", "string", nullable=False),
    _f("name", "地区", "string", nullable=False),
    _f("level", "层级", "string", nullable=False),
    _f("distance_km", "可达距离（公里）", "integer", description="开放发热门诊的直线距离，非道路距离", nullable=False),
    _f("population", "常住人口", "integer", description="第七次全国人口普查；市（区）为所辖各县之和", nullable=False),
    _f("area_km2", "面积（平方公里）", "number", nullable=False),
    _f("covered_km2", "覆盖面积（平方公里）", "number", nullable=False),
    _f("covered_population", "覆盖人口", "integer", description="假定县内人口按面积均匀分布", nullable=False),
    _f("covered_share", "覆盖人口占比", "number", description="0–1"),
    _f("demo", "演示数据", "boolean", description="由演示设施算得", nullable=False),
)

ADEQUACY_FIELDS = (
    _f("adcode", "地区代码", "string", nullable=False),
    _f("name", "地区", "string", nullable=False),
    _f("level", "层级", "string", nullable=False),
    _f("date", "截至日期", "date", nullable=False),
    _f("population", "常住人口", "number", nullable=False),
    _f("clinics", "开放发热门诊（处）", "number", nullable=False),
    _f("clinic_capacity", "日接诊能力（人次）", "number", nullable=False),
    _f("new_7d_avg", "近7日日均新增确诊", "number", description="县级公开数据不给出（由累计数导出）"),
    _f("active", "现有确诊", "number", description="县级公开数据不给出"),
    _f(
        "clinic_load",
        "门诊负荷",
        "number",
        description=(
            "近7日日均新增确诊 ÷ 日接诊能力（比值，0.9 即 90%）；无开放门诊或无病例数据时为空；县级公开数据不给出"
        ),
    ),
    _f("mask_stock", "口罩库存（只）", "number", nullable=False),
    _f("masks_per_1000", "每千人口罩（只）", "number"),
    _f("mask_use_per_day", "每日消耗（只，假定）", "number", description="每千人每日20只（假定，无销售数据）"),
    _f("stock_days", "口罩可用天数", "number", description="库存 ÷ 每日消耗"),
    _f("supply_points", "物资保障点（处）", "number", nullable=False),
    _f("supply_per_10k", "每万人物资保障点", "number"),
    _f("covered_share", "发热门诊覆盖人口占比", "number", description="0–1，见 coverage"),
    _f("flagged", "有提示", "boolean", nullable=False),
    _f("flag", "提示", "string", description="低于（或高于）阈值的项及其数值，以“；”分隔"),
    _f("demo", "演示数据", "boolean", nullable=False),
)

CASE_LIST_FIELDS = (
    _f("report_date", "报告日期", "date", INTERNAL),
    _f("region_adcode", "现住址区县代码", "string", INTERNAL),
    _f("sex", "性别", "string", INTERNAL),
    _f("age", "年龄", "integer", INTERNAL),
    _f("severity", "病情", "string", INTERNAL),
    _f("detection", "发现方式", "string", INTERNAL),
    _f("person_key", "身份证号散列", "string", SENSITIVE, "HMAC-SHA256（服务器密钥），只用于识别重复报告，不可还原"),
    _f("contact_of_key", "密接来源散列", "string", SENSITIVE, "同上"),
    # recognised in uploads (data/ingest/kinds.py PERSONAL_FIELDS) and dropped before anything is stored
    _f("name", "姓名", "string", SENSITIVE, "不入库", stored=False),
    _f("id_number", "身份证号", "string", SENSITIVE, "只存散列", stored=False),
    _f("phone", "电话", "string", SENSITIVE, "不入库", stored=False),
    _f("address", "详细地址", "string", SENSITIVE, "不入库", stored=False),
    _f("itinerary", "行程", "string", SENSITIVE, "不入库", stored=False),
    _f("contact_of", "密接来源（身份证号）", "string", SENSITIVE, "只存散列", stored=False),
)

ALERT_FIELDS = (
    _f("id", "编号", "integer", nullable=False),
    _f("rule_id", "规则编号", "string", description="analytics/alert_rules.yaml 中规则的 id", nullable=False),
    _f("rule_name", "规则名称", "string", nullable=False),
    _f("severity", "级别", "string", description="红 / 橙 / 黄（红最高）", nullable=False),
    _f("adcode", "地区代码", "string", nullable=False),
    _f("region", "地区", "string", nullable=False),
    _f("day", "数据日期", "date", description="预警依据的数据日（截至该日24时）", nullable=False),
    _f("value", "指标值", "number", description="触发时指标的值（风险等级 0 低、1 中、2 高）"),
    _f("message", "预警内容", "string", nullable=False),
    _f(
        "raised_at",
        "发出时间",
        "string",
        description="首次由某一数据版本得出的时间，ISO 8601，北京时间",
        nullable=False,
    ),
    _f("acknowledged", "已确认", "boolean", nullable=False),
    _f("acknowledged_at", "确认时间", "string", description="ISO 8601，北京时间"),
    _f("acknowledged_by", "确认人", "string", INTERNAL, "值班人员，仅内部可见"),
)

REPORTING_FIELDS = (  # the reporting board (data/reporting.py, /api/v1/reporting-status)
    _f("adcode", "地区代码", "string", nullable=False),
    _f("name", "地区", "string", nullable=False),
    _f("level", "层级", "string", description="unit 市（区）报告单位 / county 有账号的县（区）", nullable=False),
    _f(
        "status",
        "报送状态",
        "string",
        description="reported 已报（截止时间前入库）/ late 迟报 / missing 未报",
        nullable=False,
    ),
    _f("reported_at", "首次入库时间", "string", description="ISO 8601，北京时间；随系统提供的历史数据为空"),
    _f("by", "上报人", "string", INTERNAL, "首次入库的账号（历史数据为“历史数据导入”），仅内部可见"),
    _f(
        "due_at",
        "截止时间",
        "string",
        description="ISO 8601，北京时间（REPORT_DEADLINE，默认次日 09:00）",
        nullable=False,
    ),
    _f("past_due", "已过截止时间", "boolean", nullable=False),
)

DERIVED_FIELDS = (  # figures of a region on a day that the pages and their downloads show and the API does not serve
    _f(
        "importation_risk",
        "输入风险指数",
        "number",
        INTERNAL,
        "Σ 来源地（迁入占比% ÷ 100 × 来源地每10万人现有确诊）；杨凌、韩城无百度迁徙数据",
        digits=4,
    ),
    _f("new_7d_avg", "7日平均", "number", INTERNAL, "每日新增确诊的7日平均", unit=_COUNT),
)

DATASETS = {
    d.name: d
    for d in (
        Dataset(
            "regions",
            "行政区划与人口",
            PUBLIC,
            "省、12个报告单位、107个县（区）的代码、名称、上级与常住人口",
            REGION_FIELDS,
        ),
        Dataset(
            "summary",
            "每日疫情数字",
            PUBLIC,
            "某地区某日的累计与新增、现有、每10万人、Rt 与风险等级；省与市（区）为准确数，县级公开数据经小数抑制",
            SUMMARY_FIELDS,
        ),
        Dataset(
            "flows",
            "人口流动",
            PUBLIC,
            "百度迁徙：迁入来源、迁出目的地占比与相对流量（保留百度的声明：非商业、仅供参考）",
            FLOW_FIELDS,
        ),
        Dataset(
            "facilities", "防控设施", PUBLIC, "发热门诊、定点药店、物资保障点（随附数据为演示数据）", FACILITY_FIELDS
        ),
        Dataset(
            "coverage",
            "发热门诊覆盖",
            PUBLIC,
            "各县（区）、市（区）距开放发热门诊一定直线距离内的人口（随附设施为演示数据）",
            COVERAGE_FIELDS,
        ),
        Dataset(
            "adequacy",
            "资源保障",
            PUBLIC,
            "发热门诊能力与近期病例、口罩库存与可用天数、物资保障点、覆盖；县级公开数据不给病例数及门诊负荷",
            ADEQUACY_FIELDS,
        ),
        Dataset(
            "alerts",
            "预警",
            PUBLIC,
            "最新数据日的预警（规则见 analytics/alert_rules.yaml）；公开调用只含全省与市（区）",
            ALERT_FIELDS,
        ),
        Dataset(
            "reporting",
            "报送状态",
            PUBLIC,
            "某日各市（区）及有账号的县（区）日报是否按时入库；上报人仅内部可见",
            REPORTING_FIELDS,
        ),
        Dataset(
            "case_list",
            "病例个案",
            INTERNAL,
            "一行一例；不存姓名、电话、地址、行程，身份证号只存散列；只以县级计数（经小数抑制）对外",
            CASE_LIST_FIELDS,
        ),
        Dataset("ingest_rows", "未入库的行", INTERNAL, "上传文件中未入库的行及原因；病例个案的个人信息列不保存", ()),
        Dataset("batches", "导入批次", INTERNAL, "文件名、校验和、操作人、时间", ()),
        Dataset("derived", "看板派生指标", INTERNAL, "看板地图、趋势图及其下载显示而 API 不提供的指标", DERIVED_FIELDS),
    )
}

# A region's figures on a day, looked up by name alone: the summary's fields and the derived ones (no name in both).
_DAILY = {f.name: f for f in (*DERIVED_FIELDS, *SUMMARY_FIELDS)}

# The metrics the map offers, in the order of metric-select. Listing a field here puts it in the select, gives it
# a colour axis (figures/metrics.py: white to dark red by magnitude unless it says otherwise) and a column in the
# map's download (figures/tables.units_table); its values are the column of that name in queries.on_day's frame.
MAP_METRICS = (
    "confirmed_cum",
    "active",
    "new_7d",
    "confirmed_per_100k",
    "incidence_7d_per_100k",
    "rt",
    "risk_level",
    "importation_risk",
)


def field_named(name: str, dataset: str | None = None) -> Field:
    """The field ``name`` of ``dataset``, or (no dataset) of a region's figures on a day; KeyError if not catalogued."""
    found = DATASETS[dataset].field(name) if dataset else _DAILY.get(name)
    if found is None:
        raise KeyError(f"{name} is not catalogued" + (f" in {dataset}" if dataset else ""))
    return found


def title(name: str, dataset: str | None = None) -> str:
    """The field's header: in tables, downloads, the API's schema and the open-data package."""
    return field_named(name, dataset).title


def label(name: str, dataset: str | None = None) -> str:
    """The field's name in controls, legends and upload forms (its header unless the catalogue gives another)."""
    return field_named(name, dataset).label


def allowed(level: str, clearance: str) -> bool:
    """Whether a field of ``level`` may go to someone with ``clearance``; 敏感 goes to nobody."""
    return level != SENSITIVE and _RANK[level] <= _RANK[clearance]


def visible_fields(dataset: str, clearance: str) -> list[str]:
    return [f.name for f in DATASETS[dataset].fields if f.stored and allowed(f.level, clearance)]


def only_visible(dataset: str, row: dict, clearance: str) -> dict:
    """The row with only the fields catalogued for this data set and allowed at this clearance."""
    names = set(visible_fields(dataset, clearance))
    return {k: v for k, v in row.items() if k in names}


# ---- the open-data package's table schemas -------------------------------------------------------------------
def table_schema(fields: tuple[Field, ...] | list[Field], primary_key: list[str] | None = None) -> dict:
    """A Frictionless Table Schema for public fields (an internal or sensitive field here is a programming error)."""
    out = []
    for f in fields:
        if f.level != PUBLIC:
            raise ValueError(f"{f.name} is {f.level}: not for the open-data package")
        item = {"name": f.name, "title": f.title, "type": f.type}
        if f.description:
            item["description"] = f.description
        if not f.nullable:
            item["constraints"] = {"required": True}
        out.append(item)
    schema = {"fields": out, "missingValues": [""]}
    if primary_key:
        schema["primaryKey"] = primary_key
    return schema


def json_schema(dataset: str) -> dict:
    """OpenAPI 3.0 schema of one row of a data set as the API serves it (public fields)."""
    types = {
        "string": {"type": "string"},
        "integer": {"type": "integer"},
        "number": {"type": "number"},
        "date": {"type": "string", "format": "date"},
        "boolean": {"type": "boolean"},
        "array": {"type": "array", "items": {"type": "string"}},
        "object": {"type": "object"},
    }
    props = {}
    for f in DATASETS[dataset].fields:
        if not f.stored or f.level != PUBLIC:
            continue
        props[f.name] = {
            **types[f.type],
            "description": f"{f.title}{'：' + f.description if f.description else ''}",
            **({"nullable": True} if f.nullable else {}),
        }
    required = [f.name for f in DATASETS[dataset].fields if f.level == PUBLIC and not f.nullable]
    return {"type": "object", "properties": props, "required": required}
