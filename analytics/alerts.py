"""Alert rules and their evaluation: a metrics table and the rules in, the alerts of one day out.

The rules are data (``analytics/alert_rules.yaml``, read by ``load_rules``); this module knows three kinds:

- ``threshold``: a metric compared with a threshold (``>``, ``>=``, ``<``, ``<=``) on the day, or on each of the
  ``days`` days ending on it ("Rt above 1 for 3 days");
- ``rise``: the metric is higher on the day than its last known value before it (a region moving up a risk level);
- ``overdue``: the region did not report for the day (``reported`` is 0) and the deadline for that day's report
  (``days_after`` days later at ``time``, Beijing time) has passed at ``now``.

The metrics table is wide: index (adcode, date), one column per metric (see ``METRICS``), plus ``name`` and
``level`` of each region, and ``facility_demo`` (1 where the facility figures are demo data: the alert says so).
A metric the table lacks (clinic load before the adequacy data exist) raises nothing.
Pure: no store, no clock (``now`` is an argument), no formatting beyond the alert's own text.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from analytics.risk import LEVEL_NAMES, LEVELS

RULES_PATH = Path(__file__).resolve().parent / "alert_rules.yaml"
BEIJING = dt.timezone(dt.timedelta(hours=8), "北京时间")  # China keeps one zone and no daylight saving
SEVERITIES = ("红", "橙", "黄")  # highest first, as in China's early-warning colours
SEVERITY_NAMES = {"红": "红色预警", "橙": "橙色预警", "黄": "黄色预警"}
REGION_LEVELS = ("province", "unit", "county")


def _number(value: float, digits: int = 1) -> str:
    """1234 -> '1,234'; 2.50 -> '2.5'; no trailing zeros (阈值 3 reads as 3, not 3.0)."""
    text = f"{value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class Metric:
    label: str
    text: Callable[[float], str]  # how a value of it reads in an alert
    demo_column: str | None = None  # a column that is 1 where the value comes from demo data (said in the alert)


DEMO_NOTE = "（演示数据）"


RANK_NAMES = {float(i): LEVEL_NAMES[level] for i, level in enumerate(LEVELS)}
METRICS = {
    "new_24h": Metric("24小时新增确诊", lambda v: f"{_number(v, 0)}例"),
    "new_7d": Metric("近7日新增确诊", lambda v: f"{_number(v, 0)}例"),
    "rt": Metric("有效再生数 Rt", lambda v: f"{v:.2f}"),
    "risk_rank": Metric("风险等级", lambda v: RANK_NAMES.get(float(v), _number(v))),
    "reported": Metric("当日是否上报", lambda v: "已上报" if v else "未上报"),
    "clinic_load": Metric(
        "发热门诊负荷",
        lambda v: "超出接诊能力（无发热门诊）" if math.isinf(v) else f"{_number(v * 100, 0)}%",
        "facility_demo",
    ),
    "stock_days": Metric("口罩可用天数", lambda v: f"{_number(v)}天", "facility_demo"),
}
OPERATORS = {
    ">": (operator.gt, "高于"),
    ">=": (operator.ge, "不低于"),
    "<": (operator.lt, "低于"),
    "<=": (operator.le, "不高于"),
}
PLACEHOLDERS = ("region", "day", "value", "threshold", "days", "previous", "deadline")


class RuleError(ValueError):
    """The rules file cannot be used; the message says which rule, which entry and why, in Chinese."""


class Deadline(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    days_after: int = Field(1, ge=0, le=7)
    time: dt.time = dt.time(9, 0)

    def of(self, day: dt.date) -> dt.datetime:
        """When the report for ``day`` is due, as an aware datetime (Beijing time)."""
        return dt.datetime.combine(day + dt.timedelta(days=self.days_after), self.time, BEIJING)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9_]{1,50}$")
    name: str = Field(min_length=1, max_length=50)
    kind: Literal["threshold", "rise", "overdue"] = "threshold"
    metric: str
    op: Literal[">", ">=", "<", "<="] | None = None
    threshold: float | None = None
    days: int = Field(1, ge=1, le=14)
    deadline: Deadline = Deadline()  # overdue rules only
    severity: Literal["红", "橙", "黄"]
    levels: tuple[Literal["province", "unit", "county"], ...] = REGION_LEVELS
    message: str = Field(min_length=1, max_length=200)

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in METRICS:
            raise ValueError(f"未知指标 {value!r}，可用：{'、'.join(METRICS)}")
        return value

    @field_validator("message")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        try:
            names = [field for _, field, _, _ in string.Formatter().parse(value) if field is not None]
        except ValueError:
            raise ValueError("花括号不成对（占位符写作 {region} 这样）") from None
        unknown = [n for n in names if n not in PLACEHOLDERS]
        if unknown:
            raise ValueError(f"未知占位符 {{{unknown[0]}}}，可用：{'、'.join('{' + p + '}' for p in PLACEHOLDERS)}")
        return value

    @model_validator(mode="after")
    def _complete(self) -> Rule:
        if self.kind == "threshold" and (self.op is None or self.threshold is None):
            raise ValueError("threshold 类规则须写 op（>、>=、<、<=）和 threshold（阈值）")
        return self


@dataclass(frozen=True)
class Alert:
    rule_id: str
    rule_name: str
    severity: str
    adcode: str
    region: str
    day: dt.date
    value: float | None
    message: str

    @property
    def key(self) -> tuple[str, str, dt.date]:
        """What identifies an alert across evaluations: its rule, region and day."""
        return self.rule_id, self.adcode, self.day


# ---- reading the rules ------------------------------------------------------------------------------------------
ERROR_TEXT = {
    "missing": "缺少此项",
    "extra_forbidden": "不认识的项（拼写错了？）",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "string_type": "应为文字",
    "time_parsing": '应为时间，如 "09:00"',
    "time_type": '应为时间，如 "09:00"',
    "string_pattern_mismatch": "只能用英文小写字母、数字和下划线",
    "string_too_short": "不能为空",
}


def _reason(error: dict) -> str:
    kind = error["type"]
    if kind == "literal_error":
        expected = error["ctx"]["expected"].replace(" or ", "、").replace(", ", "、")
        return f"应为 {expected} 之一，收到 {error.get('input')!r}"
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = error["ctx"].get("ge", error["ctx"].get("le"))
        return f"应{'不小于' if kind == 'greater_than_equal' else '不大于'} {bound}，收到 {error.get('input')!r}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    text = ERROR_TEXT.get(kind, error["msg"])
    return text if kind == "missing" else f"{text}，收到 {error.get('input')!r}"


def parse_rules(text: str, source: str = RULES_PATH.name) -> tuple[Rule, ...]:
    """The rules in a YAML text; RuleError naming the file, the rule (number and id), the entry and the reason."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"第{mark.line + 1}行" if mark is not None else ""
        raise RuleError(
            f"预警规则文件 {source} {where}不是有效的 YAML（{getattr(err, 'problem', '') or err}）"
        ) from None
    entries = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise RuleError(f"预警规则文件 {source}：应有 rules: 列表（每条规则一段，以 - 开头）")
    rules, seen = [], set()
    for number, entry in enumerate(entries, start=1):
        label = f"第{number}条规则" + (f"（{entry.get('id')}）" if isinstance(entry, dict) and entry.get("id") else "")
        if not isinstance(entry, dict):
            raise RuleError(f"预警规则文件 {source} {label}：应为“项: 值”的一段")
        try:
            rule = Rule.model_validate(entry)
        except ValidationError as err:
            first = err.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "规则"
            raise RuleError(f"预警规则文件 {source} {label}的 {field}：{_reason(first)}") from None
        if rule.id in seen:
            raise RuleError(f"预警规则文件 {source} {label}：id {rule.id} 与前面的规则重复")
        seen.add(rule.id)
        rules.append(rule)
    return tuple(rules)


def load_rules(path: Path = RULES_PATH) -> tuple[Rule, ...]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        raise RuleError(f"找不到预警规则文件 {path}") from None
    return parse_rules(text, Path(path).name)


# ---- evaluating them --------------------------------------------------------------------------------------------
def _day_text(day) -> str:
    return f"{day.month}月{day.day}日"


def _deadline_text(moment: dt.datetime) -> str:
    return f"{moment.month}月{moment.day}日{moment.hour}时" + (f"{moment.minute:02d}分" if moment.minute else "")


def _fired(
    rule: Rule, wide: pd.DataFrame, day: pd.Timestamp, now: dt.datetime | None
) -> tuple[pd.Series, pd.Series | None]:
    """Which regions (columns of ``wide``: dates x adcodes) the rule fires for on ``day``, and their earlier value
    (``rise`` only)."""
    today = wide.loc[day]
    if rule.kind == "threshold":
        compare = OPERATORS[rule.op][0]
        window = wide.reindex(pd.date_range(day - pd.Timedelta(days=rule.days - 1), day, freq="D"))
        return compare(window, rule.threshold).all(axis=0) & window.notna().all(axis=0), None
    if rule.kind == "rise":
        previous = wide.loc[: day - pd.Timedelta(days=1)].ffill()
        if previous.empty:
            return pd.Series(False, index=wide.columns), None
        previous = previous.iloc[-1]
        return (today > previous) & today.notna() & previous.notna(), previous
    # overdue: not reported, and the deadline has passed (never without a clock)
    due = rule.deadline.of(day.date())
    late = now is not None and now >= due
    return (today == 0) & late, None


def evaluate(metrics: pd.DataFrame, rules, day, now: dt.datetime | None = None) -> list[Alert]:
    """The alerts of ``day``: every (rule, region) whose condition holds, most severe first.

    ``metrics``: index (adcode, date), a column per metric, ``name`` and ``level`` columns; ``now``: an aware
    datetime, for deadlines (``overdue`` rules raise nothing without it)."""
    day = pd.Timestamp(day).normalize()
    if metrics.empty or day not in metrics.index.get_level_values("date"):
        return []
    about = metrics[["name", "level"]].groupby(level="adcode").first()
    alerts = []
    for order, rule in enumerate(rules):
        if rule.metric not in metrics.columns:
            continue
        wide = metrics[rule.metric].astype("float64").unstack("adcode").sort_index()
        wide = wide.loc[:, about["level"].reindex(wide.columns).isin(rule.levels).to_numpy()]
        if wide.empty or day not in wide.index:
            continue
        fired, previous = _fired(rule, wide, day, now)
        metric = METRICS[rule.metric]
        demo = (
            metrics[metric.demo_column].xs(day, level="date")
            if metric.demo_column in metrics.columns
            else pd.Series(dtype="float64")
        )
        for adcode in fired.index[fired.to_numpy(dtype=bool)]:
            value = wide.at[day, adcode]
            fields = {
                "region": about.at[adcode, "name"],
                "day": _day_text(day),
                "days": rule.days,
                "value": metric.text(value) if not math.isnan(value) else "未上报",
                "threshold": metric.text(rule.threshold) if rule.threshold is not None else "",
                "previous": metric.text(previous[adcode]) if previous is not None else "",
                "deadline": _deadline_text(rule.deadline.of(day.date())) if rule.kind == "overdue" else "",
            }
            alerts.append(
                (
                    SEVERITIES.index(rule.severity),
                    order,
                    adcode,
                    Alert(
                        rule.id,
                        rule.name,
                        rule.severity,
                        adcode,
                        fields["region"],
                        day.date(),
                        None if math.isnan(value) else float(value),
                        rule.message.format(**fields) + (DEMO_NOTE if demo.get(adcode, 0) == 1 else ""),
                    ),
                )
            )
    return [a for *_, a in sorted(alerts, key=lambda t: t[:3])]
