"""Direct reporting (`/report`): a region's figures of one day, typed in by its officer, checked as they are typed and
stored through the same ingest path as an uploaded file, so a report is a batch: audited, listed on `/data`, and
rolled back like any other.

The officer types the day's new counts; the cumulative figures follow: the region's previous cumulative (its latest
own report before that day; a region that never reported on its own starts from the figure the dashboard showed
before, else from 0) plus the new counts, less 核减 (cases withdrawn by a correction). The decisions are plain
functions (``parse_count``, ``parse_day``, ``decide``) tested without a browser; ``check`` looks the stored figures
up and calls them; ``submit`` stores.

Rules, each with a Chinese sentence naming the field:
- counts are integers >= 0 (full-width digits and thousands separators are read; a decimal or a sign is refused);
- the day is not in the future (Beijing time) and not before the ingest window (2019-12-01);
- the region is a reporting unit or a county, within the account's scope (its own region and that region's
  counties);
- a day the region already reported is a revision: a 修订原因 is required (and identical figures are refused);
- a cumulative that goes down (核减 more than the new cases, or a later day already reported lower than the new
  figure) is a 订正: a 订正原因 is required; the note then carries 订正, which the ingest path accepts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import insert, select

from analytics.cases import BASIS
from data import queries, reporting, store
from data.catalogue import title
from data.ingest import pipeline
from data.ingest.reading import DATE_MIN
from geo import regions
from geo.regions import within_scope

SOURCE = "各市（区）、县（区）直报"  # one source for every direct report: the pages list sources by name
REQUIRED = {c: title(c) for c in ("new_confirmed", "new_cured", "new_dead")}
EXTRAS = {
    "new_asymptomatic": "新增无症状感染者",
    "contacts_under_observation": "在观察密切接触者",
    "fever_clinic_visits": "发热门诊就诊人次",
    "pharmacy_mask_stock": "定点药店口罩库存",
}
CORRECTION = {"correction": "核减确诊（订正）"}
LABELS = {**REQUIRED, **EXTRAS, **CORRECTION}
MAXIMUM = {
    "new_confirmed": 1_000_000,
    "new_cured": 1_000_000,
    "new_dead": 1_000_000,
    "correction": 1_000_000,
    "new_asymptomatic": 1_000_000,
    "contacts_under_observation": 10_000_000,
    "fever_clinic_visits": 10_000_000,
    "pharmacy_mask_stock": 100_000_000,
}
CUMULATIVE = {c: title(c) for c in ("confirmed_cum", "cured_cum", "dead_cum")}
REASON_MAX = 200


class Refused(ValueError):
    """A report that was not stored, in one Chinese sentence."""


# ---- the decisions -------------------------------------------------------------------------------------------------
def parse_count(text, label: str, required: bool = True, maximum: int = 1_000_000) -> tuple[int | None, str | None]:
    """(value, None) or (None, why) for what was typed in a count field; an empty optional field is (None, None)."""
    raw = "" if text is None else str(text)
    cleaned = re.sub(r"[,，\s]", "", unicodedata.normalize("NFKC", raw))  # １２ -> 12, 1,234 -> 1234
    if not cleaned:
        return None, (f"请填写{label}（没有请填 0）" if required else None)
    if re.fullmatch(r"-\d+(\.0*)?", cleaned):
        return None, f"{label}不能为负数：“{raw.strip()}”"
    if re.fullmatch(r"\+?\d+", cleaned):
        value = int(cleaned)
        if value > maximum:
            return None, f"{label}超出合理范围（不超过 {maximum:,}）：“{raw.strip()}”"
        return value, None
    if re.fullmatch(r"[-+]?\d*\.\d+|[-+]?\d+\.\d*", cleaned):
        return None, f"{label}应为整数，不能有小数：“{raw.strip()}”"
    return None, f"{label}应为不小于 0 的整数：“{raw.strip()}”"


def parse_day(text, today: dt.date) -> tuple[dt.date | None, str | None]:
    """The report day (YYYY-MM-DD): not in the future, not before the ingest window."""
    raw = "" if text is None else str(text).strip()
    if not raw:
        return None, "请选择日期"
    try:
        day = dt.date.fromisoformat(raw[:10])
    except ValueError:
        return None, f"日期格式应为 YYYY-MM-DD：“{raw}”"
    if day > today:
        return None, f"日期不能是未来的日子：{day:%Y-%m-%d} 晚于今天 {today:%Y-%m-%d}（北京时间）"
    if day < DATE_MIN.date():
        return None, f"日期 {day:%Y-%m-%d} 早于可填报的最早日期 {DATE_MIN:%Y-%m-%d}"
    return day, None


def reportable(adcode: str | None, scope: str | None) -> str | None:
    """Why the account cannot report for this region, or None. Units and counties only; a scoped account its own
    region and that region's counties."""
    region = regions.get(adcode) if adcode else None
    if region is None:
        return "请选择地区" if not adcode else f"未知地区代码 {adcode}"
    if region.level == "province":
        return "全省数字由各市（区）汇总，不直报：请选择市（区）或县（区）"
    if not within_scope(adcode, scope):
        own = regions.get(scope)
        mine = own.display_name + (" " if own.level == "county" else " 及其所辖县（区）")
        return f"您的账号只能为 {mine}直报，不能为 {region.display_name} 直报"
    return None


def region_choices(scope: str | None) -> list[regions.Region]:
    """What an account may report for: every unit and its counties, or its own region and that region's counties."""
    out = []
    for unit in sorted(regions.units(), key=lambda r: r.adcode):
        if within_scope(unit.adcode, scope):
            out.append(unit)
        out += [
            c
            for c in sorted(regions.counties(unit.adcode), key=lambda r: r.adcode)
            if c.adcode != unit.adcode and within_scope(c.adcode, scope)
        ]
    return out


@dataclass
class Base:
    """The cumulative figures a report adds to."""

    confirmed_cum: int = 0
    cured_cum: int = 0
    dead_cum: int = 0
    day: dt.date | None = None
    basis: str = "无此前数字，从 0 起算"


@dataclass
class Decision:
    errors: list[str] = field(default_factory=list)
    cumulative: dict | None = None  # confirmed_cum, cured_cum, dead_cum as they would be stored
    revision: bool = False  # the day was reported before
    needs_revision_reason: bool = False
    needs_correction_reason: bool = False
    drops: list[str] = field(default_factory=list)  # the cumulative falls somewhere: why a 订正原因 is needed
    unchanged: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def decide(
    values: dict,
    base: Base,
    stored: dict | None = None,
    later: tuple[dt.date, dict] | None = None,
    revision_reason: str = "",
    correction_reason: str = "",
    stored_extras: dict | None = None,
) -> Decision:
    """What a report of ``values`` (the parsed counts, None where empty or wrong) would store, and what stops it.

    ``base``: the cumulative before the day; ``stored``: the figures already stored for the day (a revision);
    ``later``: the next day the region reported after this one and its figures (it must not fall below this one)."""
    out = Decision(revision=stored is not None, needs_revision_reason=stored is not None)
    if any(values.get(k) is None for k in REQUIRED):
        return out  # the parse errors (or 请填写) are the caller's; nothing to compute yet
    correction = values.get("correction") or 0
    cum = {
        "confirmed_cum": base.confirmed_cum + values["new_confirmed"] - correction,
        "cured_cum": base.cured_cum + values["new_cured"],
        "dead_cum": base.dead_cum + values["new_dead"],
    }
    out.cumulative = cum
    if cum["confirmed_cum"] < 0:
        out.errors.append(
            f"核减确诊（{correction}）大于此前累计确诊（{base.confirmed_cum}）加本日新增确诊（{values['new_confirmed']}）"
        )
        return out
    if cum["cured_cum"] + cum["dead_cum"] > cum["confirmed_cum"]:
        out.errors.append(
            f"累计治愈（{cum['cured_cum']}）与累计死亡（{cum['dead_cum']}）之和大于累计确诊"
            f"（{cum['confirmed_cum']}）：请核对新增治愈、新增死亡"
        )
    if correction:
        out.drops.append(f"核减确诊 {correction} 例")
    if cum["confirmed_cum"] < base.confirmed_cum:
        out.drops.append(f"累计确诊由 {base.confirmed_cum} 降为 {cum['confirmed_cum']}")
    if later is not None:
        later_day, figures = later
        for column, label in CUMULATIVE.items():
            value = figures.get(column)
            if value is not None and not pd.isna(value) and int(value) < cum[column]:
                out.drops.append(
                    f"{later_day.month}月{later_day.day}日已报的{label} {int(value)} 将低于本日的 {cum[column]}"
                )
    if out.drops:
        out.needs_correction_reason = True
        if not (correction_reason or "").strip():
            out.errors.append("属于订正（" + "；".join(out.drops) + "）：请填写订正原因")
    if stored is not None:
        same = all(
            stored.get(c) is not None and not pd.isna(stored.get(c)) and int(stored[c]) == cum[c] for c in CUMULATIVE
        )
        extras = {k: values.get(k) for k in EXTRAS if values.get(k) is not None}
        if same and all((stored_extras or {}).get(k) == v for k, v in extras.items()):
            out.unchanged = True
            out.errors.append("与该日已上报的数字相同，无需重复上报")
        elif not (revision_reason or "").strip():
            shown = "，".join(f"{label} {_n(stored.get(c))}" for c, label in CUMULATIVE.items())
            out.errors.append(f"该地区该日已上报（{shown}）：本次为修订，请填写修订原因")
    for name, reason in (("修订原因", revision_reason), ("订正原因", correction_reason)):
        if len((reason or "").strip()) > REASON_MAX:
            out.errors.append(f"{name}不超过 {REASON_MAX} 个字")
    return out


def _cn(day) -> str:
    """2020-12-07 -> 2020年12月7日."""
    return f"{day.year}年{day.month}月{day.day}日"


def _n(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{int(value):,}"


# ---- what is stored ------------------------------------------------------------------------------------------------
def own_reports(adcode: str, eng=None) -> pd.DataFrame:
    """The region's own reports of active batches, one row a day (the latest batch's figure wins), index: date."""
    eng = eng or store.engine()
    cr, b = store.case_reports, store.batches
    query = (
        select(cr.c.as_of_date, cr.c.confirmed_cum, cr.c.cured_cum, cr.c.dead_cum, cr.c.batch_id)
        .join(b, b.c.id == cr.c.batch_id)
        .where(b.c.status == "active", cr.c.region_adcode == adcode, cr.c.category == "reported")
    )
    with eng.connect() as conn:
        rows = store.frame(conn, query)
    if rows.empty:
        return pd.DataFrame(
            columns=["confirmed_cum", "cured_cum", "dead_cum", "batch_id"], index=pd.Index([], name="as_of_date")
        )
    rows["as_of_date"] = [reporting.as_date(d) for d in rows["as_of_date"]]
    rows = rows.sort_values("batch_id").drop_duplicates("as_of_date", keep="last")
    return rows.set_index("as_of_date").sort_index()


def previous(adcode: str, day: dt.date, own: pd.DataFrame | None = None, eng=None) -> Base:
    """The cumulative figures before ``day``: each the latest own report's; a region without own reports before the
    day starts from what the dashboard showed for it before (its counties' sum, its case list), else from 0."""
    own = own_reports(adcode, eng) if own is None else own
    before = own[own.index < day]
    if len(before):
        values = {c: before[c].dropna() for c in CUMULATIVE}
        return Base(
            *(int(v.iloc[-1]) if len(v) else 0 for v in values.values()),
            day=before.index[-1],
            basis=f"{_cn(before.index[-1])}本级上报",
        )
    series = queries.region_series(adcode, eng)
    if series is not None:
        known = series[(series.index < pd.Timestamp(day)) & series["confirmed_cum"].notna()]
        if len(known):
            last = known.iloc[-1]
            return Base(
                *(0 if pd.isna(last[c]) else int(last[c]) for c in CUMULATIVE),
                day=known.index[-1].date(),
                basis=f"{_cn(known.index[-1])}看板数字（{BASIS.get(last['basis'], last['basis'])}）",
            )
    return Base()


def stored_extras(adcode: str, day: dt.date, eng=None) -> dict:
    """The optional figures last stored for the region and day (active batches only)."""
    eng = eng or store.engine()
    x, b = store.report_extras, store.batches
    with eng.connect() as conn:
        row = conn.execute(
            select(*[x.c[k] for k in EXTRAS])
            .join(b, b.c.id == x.c.batch_id)
            .where(b.c.status == "active", x.c.region_adcode == adcode, x.c.as_of_date == day)
            .order_by(x.c.batch_id.desc())
            .limit(1)
        ).first()
    return {} if row is None else {k: v for k, v in row._asdict().items() if v is not None}


@dataclass
class Check:
    region: str | None
    day: dt.date | None
    values: dict
    errors: list[str]
    decision: Decision
    base: Base | None = None
    stored: dict | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.decision.cumulative is not None


def check(
    region: str | None,
    day_text,
    texts: dict,
    revision_reason: str = "",
    correction_reason: str = "",
    scope: str | None = None,
    now: dt.datetime | None = None,
    eng=None,
) -> Check:
    """Everything the form checks as it is typed: the region, the day, each count, and the decision."""
    errors = []
    problem = reportable(region, scope)
    if problem:
        errors.append(problem)
    day, why = parse_day(day_text, reporting.today(now))
    if why:
        errors.append(why)
    values = {}
    for key, label in LABELS.items():
        values[key], why = parse_count(texts.get(key), label, key in REQUIRED, MAXIMUM[key])
        if why:
            errors.append(why)
    if problem or day is None:
        return Check(region, day, values, errors, Decision())
    own = own_reports(region, eng)
    base = previous(region, day, own, eng)
    stored = own.loc[day].to_dict() if day in own.index else None
    after = own[own.index > day]
    later = (after.index[0], after.iloc[0].to_dict()) if len(after) else None
    decision = decide(
        values,
        base,
        stored,
        later,
        revision_reason,
        correction_reason,
        stored_extras(region, day, eng) if stored is not None else None,
    )
    return Check(region, day, values, errors + decision.errors, decision, base, stored)


# ---- storing -------------------------------------------------------------------------------------------------------
@dataclass
class Stored:
    batch_id: int
    region: regions.Region
    day: dt.date
    cumulative: dict
    revision: bool
    report: pipeline.Report


def csv_bytes(
    chk: Check, revision_reason: str = "", correction_reason: str = "", now: dt.datetime | None = None
) -> bytes:
    """The report as a one-row daily-cases file (kind ``cases``), as an upload would have it."""
    region = regions.get(chk.region)
    stamp = reporting.now_beijing(now)
    note = [f"直报 {stamp:%Y-%m-%d %H:%M:%S}"]
    if chk.decision.revision and revision_reason.strip():
        note.append(f"修订：{revision_reason.strip()[:REASON_MAX]}")
    if chk.decision.needs_correction_reason and correction_reason.strip():
        note.append(f"订正：{correction_reason.strip()[:REASON_MAX]}")
    cum = chk.decision.cumulative
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["地区代码", "地区", "日期", *CUMULATIVE.values(), "备注"])
    writer.writerow(
        [
            region.adcode,
            region.name,
            chk.day.isoformat(),
            cum["confirmed_cum"],
            cum["cured_cum"],
            cum["dead_cum"],
            "；".join(note),
        ]
    )
    return buffer.getvalue().encode("utf-8")


def submit(
    chk: Check,
    user: str,
    scope: str | None,
    revision_reason: str = "",
    correction_reason: str = "",
    now: dt.datetime | None = None,
    eng=None,
) -> Stored:
    """Store a checked report as a batch (the ingest path, with the account's scope), its optional figures in
    ``report_extras`` in the same transaction. Refused (nothing stored) when the check or the ingest says no."""
    if not chk.ok:
        raise Refused("；".join(chk.errors) or "请先填写必填项")
    eng = eng or store.engine()
    region = regions.get(chk.region)
    stamp = reporting.now_beijing(now)
    data = csv_bytes(chk, revision_reason, correction_reason, now)
    name = f"直报_{region.name}_{chk.day:%Y%m%d}_{stamp:%H%M%S}.csv"
    trial = pipeline.ingest(data, name, "cases", dry_run=True, user=user, eng=eng, scope=scope, source=SOURCE)
    refused = [i for i in trial.issues if i.status in ("rejected", "unresolved")]
    if refused or trial.already:
        raise Refused("未入库：" + ("；".join(r for i in refused for r in i.reasons) or trial.summary()))
    extras = {k: chk.values[k] for k in EXTRAS if chk.values.get(k) is not None}

    def also(conn, batch_id):
        if extras:
            conn.execute(
                insert(store.report_extras).values(
                    batch_id=batch_id, region_adcode=region.adcode, as_of_date=chk.day, **extras
                )
            )

    report = pipeline.ingest(data, name, "cases", user=user, eng=eng, scope=scope, source=SOURCE, also=also)
    if not report.batch_id:
        raise Refused("未入库：" + report.summary())
    return Stored(report.batch_id, region, chk.day, dict(chk.decision.cumulative), chk.decision.revision, report)


def history(adcode: str, last_day: dt.date, days: int = 7, now: dt.datetime | None = None, eng=None) -> list[dict]:
    """The region's reports of the ``days`` days ending ``last_day``, newest first: day, new and cumulative
    confirmed, the board's status of that day, when it was first stored and by whom."""
    own = own_reports(adcode, eng)
    first_day = last_day - dt.timedelta(days=days - 1)
    firsts = reporting.first_reports(first_day, last_day, eng)
    moment = reporting.now_beijing(now)
    rows = []
    for i in range(days):
        day = last_day - dt.timedelta(days=i)
        figures = own.loc[day] if day in own.index else None
        before = own[own.index < day]["confirmed_cum"].dropna()
        new = None
        if figures is not None and not pd.isna(figures["confirmed_cum"]):
            new = int(figures["confirmed_cum"]) - (int(before.iloc[-1]) if len(before) else 0)
        first = firsts.get((adcode, day))
        due = reporting.due_at(day)
        state = "missing" if first is None else ("reported" if first["history"] or first["at"] <= due else "late")
        rows.append(
            {
                "day": day,
                "new_confirmed": new,
                "confirmed_cum": None
                if figures is None or pd.isna(figures["confirmed_cum"])
                else int(figures["confirmed_cum"]),
                "status": state,
                "past_due": moment > due,
                "reported_at": None if first is None or first["history"] else first["at"],
                "by": None if first is None else (reporting.HISTORY_BY if first["history"] else first["by"]),
            }
        )
    return rows
