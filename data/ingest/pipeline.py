"""One ingestion path for the CLI (`flask ingest`) and the upload page (`/data`).

read -> map headers -> standardise regions (gazetteer) and dates -> validate (pydantic row models, then the rules
across rows: duplicates in the file, cumulative counts that go down, figures already stored) -> store as one batch
in one transaction. Nothing is dropped: rows that are not stored as data are stored with the batch, as written, with
the reasons naming the column. The same file twice is a no-op; a batch can be rolled back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import math
import os
import re
import signal
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import insert, select, update

from data import catalogue, demo_facilities, queries, store
from data.ingest import column_maps, kinds
from data.ingest.reading import (
    MissingColumns,
    ReadError,
    date_reasons,
    normalise_header,
    parse_dates,
    read_table,
    safe_file_name,
    year_hint,
)
from data.spreadsheet import formula_safe
from geo import china, gazetteer, regions
from geo.regions import within_scope

TARGET = {
    "cases": store.case_reports,
    "case-list": store.case_list,
    "facilities": store.facilities,
    "flows": store.flows,
}
KIND_NAMES = {"cases": "每日病例", "case-list": "病例个案", "facilities": "设施", "flows": "人口流动"}


def _titles(dataset: str, *names: str) -> dict[str, str]:
    return {name: catalogue.title(name, dataset) for name in names}


# stored column -> header of the preview: the catalogue's for a catalogued field, else the store's own columns
PREVIEW_NAMES = {
    "region_adcode": "地区代码",
    "focus_adcode": "本地代码",
    **_titles("facilities", "county_adcode"),
    "as_of_date": "截至日期",
    **_titles("case_list", "report_date"),
    "date": "日期",
    **_titles("summary", "confirmed_cum", "cured_cum", "dead_cum"),
    "source_name": "原地区名称",
    "source_row": "行号",
    **_titles("case_list", "sex", "age", "severity", "detection"),
    **_titles("facilities", "kind", "name", "address"),
    "lon": "经度",
    "lat": "纬度",
    **_titles("facilities", "status"),
    "direction": "方向",
    "zone": "功能区",
    **_titles("flows", "counterpart_name", "share_pct"),
    "volume": "流量",
}
STATUS_NAMES = {
    "rejected": "拒收",
    "unresolved": "地区未识别",
    "duplicate": "重复",
    "revision": "修订",
    "partial": "未定位到区县（已计入上级）",
}


@dataclass
class Issue:
    row: int
    status: str
    reasons: list[str]
    original: dict
    candidates: str = ""


@dataclass
class Report:
    file_name: str
    checksum: str
    size: int
    kind: str | None = None
    batch_id: int | None = None
    accepted: int = 0
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    preview: pd.DataFrame = field(default_factory=pd.DataFrame)
    already: dict | None = None  # the batch this same file was stored as before
    dry_run: bool = False
    rows: list[dict] = field(default_factory=list)  # what would be stored
    date_problems: dict[int, str] = field(default_factory=dict)  # row position -> why its date is not used
    header: list[str] = field(default_factory=list)  # the file's own column names (a remembered mapping's key)

    def count(self, status: str) -> int:
        return sum(1 for i in self.issues if i.status == status)

    @property
    def rejected(self) -> int:
        return self.count("rejected") + self.count("unresolved")

    def issues_frame(self) -> pd.DataFrame:
        rows = [
            {
                "行号": i.row,
                "状态": STATUS_NAMES[i.status],
                "原因": "；".join(i.reasons),
                "候选地区": i.candidates,
                **i.original,
            }
            for i in self.issues
        ]
        return pd.DataFrame(rows)

    def summary(self) -> str:
        if self.already:
            return (
                f"{self.file_name} 已于 {self.already['created_at']:%Y-%m-%d %H:%M} 导入（批次 {self.already['id']}），"
                "本次未重复入库。"
            )
        verb = "预检" if self.dry_run else "导入"
        parts = [
            f"{verb}{KIND_NAMES.get(self.kind, '')}文件 {self.file_name}：接收 {self.accepted} 行",
            f"拒收 {self.count('rejected')} 行",
            f"地区未识别 {self.count('unresolved')} 行",
            f"与已存数据重复 {self.count('duplicate')} 行",
            f"修订 {self.count('revision')} 行",
        ]
        if self.count("partial"):
            parts.append(f"其中 {self.count('partial')} 行未定位到区县，已计入所属市或全省")
        return "，".join(parts) + "。"


# ---- helpers --------------------------------------------------------------------------------------------------
# Largest magnitude any count, stock or volume may have: beyond it a cell is a typing error (or 1e400), not data.
MAX_VALUE = 1e9


def sensitive_headers() -> set[str]:
    """Every header under which an upload may carry personal data (the catalogue's sensitive fields and the
    ingest synonyms for them), normalised as headers are."""
    sensitive = [f for f in catalogue.CASE_LIST_FIELDS if f.level == catalogue.SENSITIVE]
    keys = {f.name for f in sensitive} | set(kinds.PERSONAL_FIELDS)
    words = {w for key in keys for w in (key, *kinds.SYNONYMS["case-list"].get(key, ()))}
    words |= {f.title for f in sensitive}
    return {normalise_header(w) for w in words}


def _number(text: str):
    """A number as officials write it (1,234 / 1 234 / 12例), None for an empty cell, "bad" for anything else:
    text, NaN, infinity, or a magnitude beyond MAX_VALUE. Every kind reads its numbers through here."""
    text = re.sub(r"[,，\s例人次个只吨]", "", str(text))
    if text in ("", "-", "—", "/", "无"):
        return None
    try:
        value = float(text)
    except ValueError:
        return "bad"
    if not math.isfinite(value) or abs(value) > MAX_VALUE:
        return "bad"
    return value


def _numbers(column: pd.Series) -> pd.Series:
    """``_number`` of each cell, kept as objects: pandas would turn None into NaN in a column of floats."""
    return pd.Series([_number(v) for v in column], index=column.index, dtype=object)


def _resolve_regions(table: pd.DataFrame) -> tuple[list, dict]:
    """Gazetteer result per row, looking each distinct (code, name) up once."""
    keys = list(zip(table.get("code", pd.Series("", index=table.index)), table.get("region", "")))
    found = {
        k: gazetteer.resolve(k[0]) if k[0] and gazetteer.resolve(k[0]).ok else gazetteer.resolve(k[1])
        for k in set(keys)
    }
    return [found[k] for k in keys], found


def _candidates(resolution) -> str:
    return "、".join(f"{name}({code})" for code, name in resolution.candidates)


def _validate(model, records: list[dict]) -> dict[int, list[str]]:
    """Row index -> reasons, from the kind's pydantic model, in Chinese and naming the column."""
    errors: dict[int, list[str]] = {}
    try:
        TypeAdapter(list[model]).validate_python(records)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            i = loc[0]
            column = kinds.FIELD_NAMES.get(loc[1], loc[1]) if len(loc) > 1 else ""
            kind = err["type"]
            limit = err.get("ctx") or {}
            if kind == "greater_than_equal":
                message = f"{column}不能小于 {limit.get('ge')}"
            elif kind == "less_than_equal":
                message = f"{column}不能大于 {limit.get('le')}"
            elif kind == "missing" or (kind.endswith("_type") and err.get("input") is None):
                message = f"{column}缺失"
            elif kind == "string_pattern_mismatch":
                message = f"{column}取值不规范：{err.get('input')!r}"
            elif kind == "value_error":
                message = str(err["msg"]).removeprefix("Value error, ")
            else:
                message = f"{column}格式不正确：{err.get('input')!r}"
            errors.setdefault(i, []).append(message)
    return errors


def _person_key(value: str) -> str | None:
    """A keyed hash of an ID number: the same person gives the same key, the number cannot be read back."""
    value = re.sub(r"\s", "", str(value or "")).upper()
    if not value:
        return None
    h = _hmac_base().copy()
    h.update(value.encode())
    return h.hexdigest()


@lru_cache(maxsize=1)
def _hmac_base():
    return hmac.new((os.environ.get("SECRET_KEY") or _instance_secret()).encode(), digestmod=hashlib.sha256)


def _instance_secret() -> str:
    path = store.instance_path() / "pii-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()


# An ID number (6-digit area, birth date, 3 digits, check digit) or a mainland mobile number, not inside a longer
# number or a decimal
ID_NUMBER = re.compile(
    r"(?<![\d.])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)"
)
MOBILE = re.compile(r"(?<![\d.])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![\d])")


def mask_personal(value):
    """Text with ID-like and mobile-like numbers masked (kept: the first digits, to find the row again)."""
    if not isinstance(value, str):
        return value
    value = ID_NUMBER.sub(lambda m: m.group()[:6] + "*" * 12, value)
    return MOBILE.sub(lambda m: m.group()[:3] + "*" * 8, value)


# ---- per kind -------------------------------------------------------------------------------------------------
def _dates(table: pd.DataFrame, name: str, report: Report) -> pd.Series:
    """The rows' dates; a date that cannot be read or lies outside the window is NaT, its reason in the report."""
    dates, note = parse_dates(table["date"], year_hint(name, table["date"]))
    if note:
        report.notes.append(note)
    report.date_problems = date_reasons(table["date"], dates)
    if report.date_problems:
        dates = dates.copy()
        dates.iloc[list(report.date_problems)] = pd.NaT
    return dates


def _cases(table: pd.DataFrame, rows: list[int], name: str, report: Report, eng) -> list[dict]:
    resolved, _ = _resolve_regions(table)
    dates = _dates(table, name, report)
    numbers = {
        c: _numbers(table[c]) if c in table else pd.Series([None] * len(table), index=table.index, dtype=object)
        for c in ("confirmed_cum", "new_confirmed", "cured_cum", "dead_cum")
    }
    problems: dict[int, list[str]] = {}
    for i in range(len(table)):
        reasons = []
        if pd.isna(dates.iloc[i]):
            reasons.append(report.date_problems[i])
        for column, values in numbers.items():
            if values.iloc[i] == "bad":
                reasons.append(f"{kinds.FIELD_NAMES[column]}不是数字或超出范围：{table[column].iloc[i]!r}")
            elif values.iloc[i] is not None and not float(values.iloc[i]).is_integer():
                reasons.append(f"{kinds.FIELD_NAMES[column]}应为整数：{table[column].iloc[i]!r}")
        if reasons:
            problems[i] = reasons
    records = [
        {
            "date": None if pd.isna(dates.iloc[i]) else dates.iloc[i].date(),
            **{c: (None if v.iloc[i] in (None, "bad") else int(v.iloc[i])) for c, v in numbers.items()},
        }
        for i in range(len(table))
    ]
    for i, reasons in _validate(
        kinds.CaseRow, [r if i not in problems else {**r, "date": r["date"] or "x"} for i, r in enumerate(records)]
    ).items():
        problems.setdefault(i, [])
        problems[i] += [r for r in reasons if not r.startswith("日期")]
    frame = pd.DataFrame(records)
    # a functional zone's row (西安市高新区) is a figure of its own, kept under its unit as category zone:NAME
    frame["adcode"] = [r.adcode if r.zone is None else f"{r.adcode}|{r.zone}" for r in resolved]
    frame["i"] = range(len(frame))
    notes_col = table.get("note", pd.Series("", index=table.index)).astype(str)
    ok = [i for i in range(len(frame)) if i not in problems and resolved[i].ok]

    # duplicates inside the file: the first occurrence stays, later ones are rejected naming it
    seen: dict[tuple, int] = {}
    for i in ok:
        key = (frame.adcode[i], frame.date[i])
        if key in seen:
            problems[i] = [f"与第{rows[seen[key]]}行重复（同一地区、同一日期）"]
        else:
            seen[key] = i
    ok = [i for i in ok if i not in problems]

    # new-only files: cumulative = stored cumulative before the file's first day + running sum of the new cases
    cum_given = frame.confirmed_cum.notna()
    if ok and not cum_given[ok].any():
        report.notes.append("文件只有新增确诊：累计确诊按已存数据加新增累加得到")
        for adcode, idx in frame.loc[ok].sort_values("date").groupby("adcode").groups.items():
            first = frame.date[idx[0]]
            series = queries.region_series(adcode, eng)
            base = 0
            if series is not None:
                before = series.loc[: pd.Timestamp(first) - pd.Timedelta(days=1), "confirmed_cum"].dropna()
                base = int(before.iloc[-1]) if len(before) else 0
            frame.loc[idx, "confirmed_cum"] = base + frame.loc[idx, "new_confirmed"].cumsum()

    # cumulative counts that go down inside the file are rejected unless the row says it is a correction
    for _adcode, group in frame.loc[ok].sort_values("date").groupby("adcode"):
        previous = None
        for i in group.i:
            value = frame.confirmed_cum[i]
            if (
                previous is not None
                and value is not None
                and not pd.isna(value)
                and value < frame.confirmed_cum[previous]
            ):
                if not re.search("订正|核减|更正", notes_col.iloc[i]):
                    problems[i] = [
                        f"累计确诊{int(value)}小于前一报告日（{frame.date[previous]:%m月%d日}）的"
                        f"{int(frame.confirmed_cum[previous])}；如为订正请在备注中注明“订正”"
                    ]
                    continue
            previous = i
    ok = [i for i in ok if i not in problems]

    # ... and so is a cumulative lower than the one stored for an earlier day (the file's first row of a region)
    for adcode, group in frame.loc[ok].sort_values("date").groupby("adcode"):
        i = group.i.iloc[0]
        value = frame.confirmed_cum[i]
        series = queries.region_series(adcode, eng)
        if value is None or pd.isna(value) or series is None or re.search("订正|核减|更正", notes_col.iloc[i]):
            continue
        earlier = series.loc[: pd.Timestamp(frame.date[i]) - pd.Timedelta(days=1)]
        # the region's own reports only: a sum of its parts or a case-list count is another figure, not a report
        before = earlier.loc[earlier["basis"] == "own_row", "confirmed_cum"].dropna()
        if len(before) and value < before.iloc[-1]:
            problems[i] = [
                f"累计确诊{int(value)}小于已存的{before.index[-1]:%m月%d日}累计{int(before.iloc[-1])}；"
                "如为订正请在备注中注明“订正”"
            ]
    ok = [i for i in ok if i not in problems]

    # against stored data: identical figures are not stored twice; different ones are revisions
    data = queries.case_data(eng)
    out = []
    for i in range(len(frame)):
        original = table.iloc[i].to_dict()
        if not resolved[i].ok:
            report.issues.append(
                Issue(rows[i], "unresolved", [f"地区：{resolved[i].note}"], original, _candidates(resolved[i]))
            )
            continue
        if i in problems:
            report.issues.append(Issue(rows[i], "rejected", problems[i], original))
            continue
        adcode, day = resolved[i].adcode, pd.Timestamp(frame.date[i])
        zone = resolved[i].zone
        row = {
            "region_adcode": adcode,
            "category": f"zone:{zone}" if zone else "reported",
            "as_of_date": day.date(),
            "confirmed_cum": int(frame.confirmed_cum[i]),
            "cured_cum": None if pd.isna(frame.cured_cum[i]) else int(frame.cured_cum[i]),
            "dead_cum": None if pd.isna(frame.dead_cum[i]) else int(frame.dead_cum[i]),
            "source_name": str(table["region"].iloc[i]) if "region" in table else adcode,
            "source_row": rows[i],
        }
        stored = data.daily.loc[(adcode, day)] if not zone and (adcode, day) in data.daily.index else None
        if stored is not None and stored["status"] == "reported" and stored["basis"] == "own_row":
            same = all(row[c] is None or stored[c] == row[c] for c in ("confirmed_cum", "cured_cum", "dead_cum"))
            if same:
                report.issues.append(Issue(rows[i], "duplicate", ["与已存数据相同，未重复入库"], original))
                continue
            changes = [
                f"{kinds.FIELD_NAMES[c]} {int(stored[c])}→{row[c]}"
                for c in ("confirmed_cum", "cured_cum", "dead_cum")
                if row[c] is not None and not pd.isna(stored[c]) and stored[c] != row[c]
            ]
            report.issues.append(Issue(rows[i], "revision", ["修订已存数据：" + "，".join(changes)], original))
        out.append(row)
    return out


def _case_places(table: pd.DataFrame) -> list:
    """Where each case lives, at the lowest level its 地区 or its 现住址 names (geo.gazetteer.locate): a county, else
    the unit (a zone, 区县不详), else the province (地区不详). Each distinct text is placed once."""
    level = {"county": 0, "unit": 1, "province": 2}
    empty = pd.Series("", index=table.index)
    texts = [
        table[c].astype(str).where(table[c].notna(), "") if c in table else empty for c in ("code", "region", "address")
    ]
    found: dict[str, gazetteer.Resolution] = {}

    def place(text: str):
        if text not in found:
            found[text] = gazetteer.locate(text)
        return found[text]

    out = []
    for code, region, address in zip(*texts):
        options = [place(t) for t in (code, region, address) if t.strip()] or [place("")]
        best = min(options, key=lambda r: (level[r.level], r.zone is None))  # the finest; a named zone kept
        zone = best.zone or next(
            (
                r.zone
                for r in options
                if r.zone and r.adcode and regions.unit_of(r.adcode) == regions.unit_of(best.adcode)
            ),
            None,
        )
        out.append(best if zone == best.zone else dataclasses.replace(best, zone=zone))
    return out


SEX = {"男": "男", "m": "男", "male": "男", "1": "男", "女": "女", "f": "女", "female": "女", "2": "女"}


def _case_list(table: pd.DataFrame, rows: list[int], name: str, report: Report, eng) -> list[dict]:
    """Case lists can hold a million rows: every check here is vectorised; only problem rows become Issues."""
    dropped_names = [
        {"name": "姓名", "phone": "电话", "address": "地址", "itinerary": "行程"}[f]
        for f in kinds.PERSONAL_FIELDS
        if f in table and f != "id_number"
    ]
    if dropped_names:
        report.notes.append(f"个人信息列（{'、'.join(dropped_names)}）按规定不入库")
    if "id_number" in table:
        report.notes.append("身份证号只以加密散列保存，用于识别重复报告，不可还原")
    free = [f for f in kinds.STANDARD_VALUES if f in table]
    for f in free:  # from here on (stored rows, preview, problem rows) only the standard value exists
        written = table[f].astype(str).str.strip()
        table[f] = written.map(lambda text, f=f: kinds.standard_value(f, text))
        other = int(((table[f] == kinds.OTHER_VALUE) & (written != kinds.OTHER_VALUE)).sum())
        if other:
            report.notes.append(
                f"{kinds.FIELD_NAMES[f]}：{other} 行不是标准取值，记为“其他”（原文不入库，以免夹带个人信息）"
            )
    resolved = _case_places(table)
    adcodes = pd.Series([r.adcode for r in resolved], index=table.index)
    zones = pd.Series([r.zone for r in resolved], index=table.index, dtype=object)
    dates = _dates(table, name, report)
    raw_age = table["age"].astype(str).str.strip() if "age" in table else pd.Series("", index=table.index)
    ages = pd.to_numeric(raw_age.str.replace(r"[岁\\s]", "", regex=True).replace("", None), errors="coerce")
    ages = ages.where(np.isfinite(ages))  # "inf" and 1e400 are not ages
    bad_age = ages.isna() & (raw_age != "")
    sexes = (
        table["sex"].astype(str).str.strip().str.lower().map(SEX).fillna("未知")
        if "sex" in table
        else pd.Series(None, index=table.index, dtype=object)
    )
    problems: dict[int, list[str]] = {}
    # the schema: each distinct (date, age, sex) goes through the pydantic model once
    key = dates.dt.strftime("%Y-%m-%d").fillna("") + "|" + ages.astype(str) + "|" + sexes.astype(str)
    codes, _ = pd.factorize(key)
    first = np.unique(codes, return_index=True)[1]
    date_values = dates.dt.date.to_numpy(dtype=object)
    age_values, sex_values = ages.to_numpy(), sexes.to_numpy(dtype=object)
    no_date = dates.isna().to_numpy()
    unique = [
        {
            "date": None if no_date[i] else date_values[i],
            "age": None if np.isnan(age_values[i]) else float(age_values[i]),
            "sex": sex_values[i],
        }
        for i in first
    ]
    errors = _validate(kinds.CaseListRow, unique)
    bad_codes = {int(codes[first[i]]): reasons for i, reasons in errors.items()}
    for i in np.flatnonzero(np.isin(codes, list(bad_codes))):
        problems[int(i)] = list(bad_codes[int(codes[i])])
    for i in np.flatnonzero(dates.isna().to_numpy()):
        problems[i] = [r for r in problems.get(i, []) if not r.startswith("日期")] + [report.date_problems[int(i)]]
    for i in np.flatnonzero(bad_age.to_numpy()):
        problems[i] = [r for r in problems.get(i, []) if not r.startswith("年龄")] + [
            f"年龄不是数字：{raw_age.iloc[i]!r}"
        ]
    keys = table["id_number"].map(_person_key) if "id_number" in table else pd.Series(None, index=table.index)
    contact = table["contact_of"].map(_person_key) if "contact_of" in table else pd.Series(None, index=table.index)
    unresolved = pd.Series([r.adcode is None for r in resolved], index=table.index)  # never, since addresses
    partial = pd.Series([r.status == "partial" for r in resolved], index=table.index)
    bad = pd.Series(False, index=table.index)
    bad.iloc[list(problems)] = True
    candidate = ~unresolved & ~bad
    duplicate_in_file = keys.notna() & keys.duplicated(keep="first") & candidate
    first_row = {}
    if duplicate_in_file.any():
        firsts = keys[keys.notna() & ~keys.duplicated(keep="first")]
        first_row = dict(zip(firsts, [rows[i] for i in np.flatnonzero(keys.notna() & ~keys.duplicated(keep="first"))]))
    existing = set()
    if "id_number" in table and keys.notna().any():
        with eng.connect() as conn:  # every key already stored by an active batch
            existing = {
                k
                for (k,) in conn.execute(
                    select(store.case_list.c.person_key)
                    .join(store.batches, store.batches.c.id == store.case_list.c.batch_id)
                    .where(store.batches.c.status == "active", store.case_list.c.person_key.is_not(None))
                )
            }
    in_store = keys.isin(existing) & candidate & ~duplicate_in_file
    # what a problem row may echo back: the recognised, non-personal columns only (an unrecognised column of a case
    # list, say 户籍地址 or 工作单位, may be personal too)
    safe = [
        c
        for c in table.columns
        if c in kinds.SYNONYMS["case-list"] and c not in kinds.PERSONAL_FIELDS and c != "contact_of"
    ]
    take = (candidate & ~duplicate_in_file & ~in_store).to_numpy()
    for i in np.flatnonzero((unresolved | bad | duplicate_in_file | in_store | (partial & take)).to_numpy()):
        original = {k: table[k].iloc[i] for k in safe}  # never the personal columns
        if take[i]:  # stored, at the unit or the province: listed with the counties it could be
            report.issues.append(
                Issue(rows[i], "partial", [f"现住地区：{resolved[i].note}"], original, _candidates(resolved[i]))
            )
        elif unresolved.iloc[i]:
            report.issues.append(
                Issue(rows[i], "unresolved", [f"现住地区：{resolved[i].note}"], original, _candidates(resolved[i]))
            )
        elif bad.iloc[i]:
            report.issues.append(Issue(rows[i], "rejected", problems[i], original))
        elif duplicate_in_file.iloc[i]:
            report.issues.append(
                Issue(rows[i], "rejected", [f"身份证号与第{first_row[keys.iloc[i]]}行相同（重复报告）"], original)
            )
        else:
            report.issues.append(Issue(rows[i], "duplicate", ["该病例已在此前批次中报告，未重复入库"], original))
    out = pd.DataFrame(
        {
            "report_date": dates.dt.date,
            "region_adcode": adcodes,
            "zone": zones,
            "sex": sexes,
            "age": ages.round().astype("Int64"),
            "severity": table["severity"] if "severity" in table else None,
            "detection": table["detection"] if "detection" in table else None,
            "person_key": keys,
            "contact_of_key": contact,
            "source_row": rows,
        }
    )[take]
    out = out.astype(object).where(out.notna(), None)
    columns = list(out.columns)
    return [dict(zip(columns, values)) for values in zip(*(out[c].to_numpy() for c in columns))]


@lru_cache(maxsize=1)
def county_shapes() -> dict:
    """Full-resolution county polygons by adcode, read once per process."""
    features = json.loads(demo_facilities.COUNTIES.read_text(encoding="utf-8"))["features"]
    return {str(f["properties"]["adcode"]): shapely.geometry.shape(f["geometry"]) for f in features}


def gcj_to_wgs(lon: float, lat: float) -> tuple[float, float]:
    """Approximate inverse of the GCJ-02 offset (one Newton step of the standard forward formula; < 1 m in Shaanxi)."""
    a, ee = 6378245.0, 0.00669342162296594323

    def forward(x, y):
        def t_lat(x0, y0):
            r = -100 + 2 * x0 + 3 * y0 + 0.2 * y0 * y0 + 0.1 * x0 * y0 + 0.2 * math.sqrt(abs(x0))
            r += (20 * math.sin(6 * x0 * math.pi) + 20 * math.sin(2 * x0 * math.pi)) * 2 / 3
            r += (20 * math.sin(y0 * math.pi) + 40 * math.sin(y0 / 3 * math.pi)) * 2 / 3
            return r + (160 * math.sin(y0 / 12 * math.pi) + 320 * math.sin(y0 * math.pi / 30)) * 2 / 3

        def t_lon(x0, y0):
            r = 300 + x0 + 2 * y0 + 0.1 * x0 * x0 + 0.1 * x0 * y0 + 0.1 * math.sqrt(abs(x0))
            r += (20 * math.sin(6 * x0 * math.pi) + 20 * math.sin(2 * x0 * math.pi)) * 2 / 3
            r += (20 * math.sin(x0 * math.pi) + 40 * math.sin(x0 / 3 * math.pi)) * 2 / 3
            return r + (150 * math.sin(x0 / 12 * math.pi) + 300 * math.sin(x0 / 30 * math.pi)) * 2 / 3

        d_lat, d_lon = t_lat(x - 105, y - 35), t_lon(x - 105, y - 35)
        rad = y / 180 * math.pi
        magic = 1 - ee * math.sin(rad) ** 2
        d_lat = d_lat * 180 / ((a * (1 - ee)) / (magic * math.sqrt(magic)) * math.pi)
        d_lon = d_lon * 180 / (a / math.sqrt(magic) * math.cos(rad) * math.pi)
        return x + d_lon, y + d_lat

    gx, gy = forward(lon, lat)
    return lon - (gx - lon), lat - (gy - lat)


def _facilities(table: pd.DataFrame, rows: list[int], name: str, report: Report, eng) -> list[dict]:
    shapes = county_shapes()
    province = shapely.union_all(list(shapes.values()))
    counties = list(shapes.items())
    out = []
    seen: dict[tuple, int] = {}  # (kind, name, point) -> the line it was first given on
    gcj_flagged = 0
    crs = table.get("crs", pd.Series("", index=table.index)).astype(str).str.lower()
    for i in range(len(table)):
        original = table.iloc[i].to_dict()
        kind = kinds.FACILITY_KINDS.get(str(table["kind"].iloc[i]).strip()) if "kind" in table else None
        lon, lat = (_number(table[c].iloc[i]) if c in table else None for c in ("lon", "lat"))
        record = {
            "kind": kind or str(table["kind"].iloc[i]) if "kind" in table else "",
            "name": str(table["name"].iloc[i]).strip(),
            "lon": None if lon in (None, "bad") else lon,
            "lat": None if lat in (None, "bad") else lat,
        }
        attrs = {}
        bad = [c for c, v in (("lon", lon), ("lat", lat)) if v == "bad"]
        for c in ("daily_capacity", "beds", "mask_stock", "vegetable_stock_t"):
            if c in table:
                v = _number(table[c].iloc[i])
                bad += [c] if v == "bad" else []
                record[c] = None if v in (None, "bad") else (v if c == "vegetable_stock_t" else int(v))
                if record[c] is not None:
                    attrs[c] = record[c]
        reasons = [
            r
            for r in _validate(kinds.FacilityRow, [record]).get(0, [])
            if not any(r.startswith(kinds.FIELD_NAMES[c]) for c in bad)
        ]
        reasons += [f"{kinds.FIELD_NAMES[c]}不是数字或超出范围：{table[c].iloc[i]!r}" for c in bad]
        if kind is None:
            reasons = [r for r in reasons if not r.startswith("类型")] + [
                f"类型无法识别：{table['kind'].iloc[i]!r}（应为 发热门诊 / 定点药店 / 物资保障点）"
            ]
        if reasons:
            report.issues.append(Issue(rows[i], "rejected", reasons, original))
            continue
        x, y = record["lon"], record["lat"]
        note = ""
        if "gcj" in crs.iloc[i] or "高德" in crs.iloc[i] or "火星" in crs.iloc[i]:
            x, y = gcj_to_wgs(x, y)
            note = "坐标按GCJ-02转换为WGS84"
        if not shapely.contains_xy(province, x, y):
            report.issues.append(Issue(rows[i], "rejected", [f"经纬度（{x:.5f}, {y:.5f}）不在陕西省境内"], original))
            continue
        inside = next((code for code, shape in counties if shapely.contains_xy(shape, x, y)), None)
        named = gazetteer.resolve(table["county"].iloc[i]) if "county" in table and table["county"].iloc[i] else None
        county = inside
        if (
            named is not None
            and named.ok
            and named.adcode != inside
            and regions.get(named.adcode)
            and regions.get(named.adcode).level != "province"
        ):
            wx, wy = gcj_to_wgs(x, y)
            shape = shapes.get(named.adcode)
            if shape is not None and shapely.contains_xy(shape, wx, wy):
                gcj_flagged += 1
                report.issues.append(
                    Issue(
                        rows[i],
                        "revision",
                        ["经纬度疑似为GCJ-02（火星坐标）：按WGS84落在相邻区县，校正后落在所填区县；已按校正后坐标入库"],
                        original,
                    )
                )
                x, y, county = wx, wy, named.adcode
        same = (kind, record["name"], round(x, 5), round(y, 5))
        if same in seen:
            report.issues.append(
                Issue(rows[i], "rejected", [f"与第{seen[same]}行重复（同一类型、名称和位置）"], original)
            )
            continue
        seen[same] = rows[i]
        unit = regions.unit_of(county)
        status_text = str(table["status"].iloc[i]) if "status" in table else ""
        out.append(
            {
                "kind": kind,
                "name": record["name"],
                "address": str(table.get("address", pd.Series("")).iloc[i]) if "address" in table else "",
                "county_adcode": county,
                "unit_adcode": unit.adcode,
                "lon": round(x, 6),
                "lat": round(y, 6),
                "status": "closed" if re.search("暂停|关闭|停", status_text) else "open",
                "attrs": {**attrs, **({"note": note} if note else {})},
                "is_demo": False,
            }
        )
    if gcj_flagged:
        report.notes.append(f"{gcj_flagged} 个点的坐标疑似GCJ-02，已校正并标注")
    return out


def _flows(table: pd.DataFrame, rows: list[int], name: str, report: Report, eng) -> list[dict]:
    dates = _dates(table, name, report)
    out = []

    def place(text):
        found = gazetteer.resolve(text)
        if found.ok and regions.get(found.adcode).level in ("province", "unit"):
            return found
        return china.resolve(text)

    for i in range(len(table)):
        original = table.iloc[i].to_dict()
        origin, destination = place(table["origin"].iloc[i]), place(table["destination"].iloc[i])
        share, volume = (_number(table[c].iloc[i]) if c in table else None for c in ("share_pct", "volume"))
        record = {
            "date": None if pd.isna(dates.iloc[i]) else dates.iloc[i].date(),
            "share_pct": None if share in (None, "bad") else share,
            "volume": None if volume in (None, "bad") else volume,
        }
        reasons = _validate(kinds.FlowRow, [record if record["date"] else {**record, "date": "x"}]).get(0, [])
        reasons += [
            f"{kinds.FIELD_NAMES[c]}不是数字或超出范围：{table[c].iloc[i]!r}"
            for c, v in (("share_pct", share), ("volume", volume))
            if v == "bad"
        ]
        if record["date"] is None:
            reasons = [r for r in reasons if not r.startswith("日期")] + [report.date_problems[i]]
        unresolved = [(label, r) for label, r in (("迁出地", origin), ("迁入地", destination)) if not r.ok]
        if unresolved:
            report.issues.append(
                Issue(
                    rows[i],
                    "unresolved",
                    [f"{label}：{r.note}" for label, r in unresolved],
                    original,
                    "；".join(_candidates(r) for _, r in unresolved),
                )
            )
            continue
        if reasons:
            report.issues.append(Issue(rows[i], "rejected", reasons, original))
            continue
        if regions.get(destination.adcode) and destination.adcode.startswith("61"):
            focus, counterpart, direction = destination, origin, "in"
        elif regions.get(origin.adcode) and origin.adcode.startswith("61"):
            focus, counterpart, direction = origin, destination, "out"
        else:
            report.issues.append(Issue(rows[i], "rejected", ["迁出地和迁入地均不在陕西省"], original))
            continue
        level = (
            "province"
            if counterpart.adcode.endswith("0000")
            and china.get(counterpart.adcode, "province")
            and not china.get(counterpart.adcode, "city")
            else "city"
        )
        out.append(
            {
                "date": record["date"],
                "direction": direction,
                "focus_adcode": focus.adcode,
                "counterpart_adcode": counterpart.adcode,
                "counterpart_name": counterpart.name,
                "counterpart_level": level,
                "share_pct": record["share_pct"],
                "volume": record["volume"],
            }
        )
    return out


PROCESS = {"cases": _cases, "case-list": _case_list, "facilities": _facilities, "flows": _flows}


# ---- the path -------------------------------------------------------------------------------------------------
def ingest(
    data: bytes,
    file_name: str,
    kind: str | None = None,
    dry_run: bool = False,
    user: str = "system",
    eng=None,
    source: str | None = None,
    scope: str | None = None,
    columns: dict[str, str] | None = None,
    also=None,
) -> Report:
    """Read, check and (unless ``dry_run``) store a file as one batch. Raises ReadError when nothing could be read;
    the store is then unchanged. With ``scope`` (an account's region), rows of other regions are rejected.
    ``columns``: field -> the file's column, for headers no synonym knows (kinds.parse_columns); a mapping given
    for a stored file is remembered for its header and used for the next file with the same header.
    ``also(conn, batch_id)``: more rows to store with the batch, in its transaction (a direct report's extras)."""
    eng = eng or store.engine()
    try:
        report = _ingest(data, file_name, kind, dry_run, user, eng, source, scope, columns, also)
    except MissingColumns as missing:
        known = None if columns else column_maps.remembered(missing.headers, kind, eng)
        if known is None:
            raise
        report = _ingest(data, file_name, known[0], dry_run, user, eng, source, scope, known[1], also)
        report.notes.insert(
            0,
            "按此前为同一表头保存的列对应读取："
            + "、".join(f"{kinds.FIELD_NAMES.get(k, k)}={c}" for k, c in known[1].items()),
        )
        return report
    if columns and report.batch_id:
        column_maps.remember(report.header, report.kind, columns, user, eng)
    return report


def _ingest(
    data: bytes,
    file_name: str,
    kind: str | None,
    dry_run: bool,
    user: str,
    eng,
    source: str | None,
    scope: str | None,
    columns: dict[str, str] | None,
    also=None,
) -> Report:
    """The work of ``ingest``, with the columns given (or remembered)."""
    file_name = safe_file_name(file_name)  # never a path from the client
    report = Report(file_name, hashlib.sha256(data).hexdigest(), len(data), dry_run=dry_run)
    with eng.connect() as conn:
        previous = conn.execute(
            select(store.batches.c.id, store.batches.c.created_at, store.batches.c.kind).where(
                store.batches.c.checksum == report.checksum, store.batches.c.status == "active"
            )
        ).first()
    if previous:
        report.already = {"id": previous.id, "created_at": pd.Timestamp(previous.created_at)}
        report.kind = previous.kind
        return report
    if kind is None:  # a first look with every kind's headers, only to tell which kind the file is
        every = {}
        for synonyms in kinds.SYNONYMS.values():
            for key, words in synonyms.items():
                every[key] = tuple(dict.fromkeys(every.get(key, ()) + words))
        table = read_table(data, file_name, kinds.with_columns(every, columns))
        kind = kinds.guess_kind(set(table.mapping))
    if kind in PROCESS:
        table = read_table(data, file_name, kinds.with_columns(kinds.SYNONYMS[kind], columns))
    if kind not in PROCESS:
        raise ReadError(
            f"{file_name}：无法判断文件类型（识别到的列：{'、'.join(table.mapping.values())}），"
            "请用 --kind 指定 cases、case-list、facilities 或 flows。"
        )
    missing = [kinds.FIELD_NAMES.get(c, c) for c in kinds.REQUIRED[kind] if c not in table.frame]
    if kind == "case-list" and not {"region", "address", "code"} & set(table.frame):
        missing.append("地区或现住址")
    if kind == "cases" and not {"confirmed_cum", "new_confirmed"} & set(table.frame):
        missing.append("累计确诊或新增确诊")
    if columns:
        absent = [f"{kinds.FIELD_NAMES.get(k, k)}={c}" for k, c in columns.items() if table.mapping.get(k) != c]
        if absent:
            raise ReadError(
                f"{file_name}：列对应 {'、'.join(absent)} 中的列在表头中找不到（第{table.header_row}行为表头）。"
            )
    if missing:
        raise MissingColumns(
            f"{file_name}：缺少必需的列“{'、'.join(missing)}”（第{table.header_row}行为表头）。"
            "如文件用了其他列名，可指定列对应（命令行 --columns 字段=列名；上传页的“列对应”）。",
            table.header,
        )
    if table.frame.empty:
        raise ReadError(f"{file_name}：表头下没有数据行。")
    report.kind, report.header = kind, table.header
    report.notes += [f"编码 {table.encoding}，第{table.header_row}行为表头"] + table.notes
    if table.unknown_columns:
        report.notes.append(f"未识别的列（未入库）：{'、'.join(table.unknown_columns)}")
    frame, rows = _without_long_cells(table, report)
    report.rows = PROCESS[kind](frame, rows, file_name, report, eng)
    if scope:
        report.rows = _within_scope(report, scope)
    personal = sensitive_headers() if kind == "case-list" else set()
    for issue in report.issues:  # the officer's own headers, so the report can be fixed and uploaded again
        labelled = {table.mapping.get(k, str(k).split(":", 1)[-1]): v for k, v in issue.original.items()}
        # never echo personal data back: a case list's personal columns under any header we know, and anything
        # that looks like an ID or mobile number in whatever column it was typed
        issue.original = {k: mask_personal(v) for k, v in labelled.items() if normalise_header(k) not in personal}
    report.accepted = len(report.rows)
    preview = pd.DataFrame(report.rows[:20])
    for code_column in ("region_adcode", "county_adcode", "focus_adcode"):
        if code_column in preview:  # the standardised name next to the code, as the dashboard will show it
            preview.insert(
                0, "标准地区名称", [regions.get(c).name if regions.get(c) else c for c in preview[code_column]]
            )
            break
    report.preview = preview[[c for c in preview.columns if c in PREVIEW_NAMES or c == "标准地区名称"]].rename(
        columns=PREVIEW_NAMES
    )
    if dry_run:
        return report
    _store(report, user, source or f"{KIND_NAMES[kind]}导入：{file_name}", eng, also)
    return report


def _without_long_cells(table, report: Report) -> tuple[pd.DataFrame, list[int]]:
    """Rows with a cell longer than MAX_CELL_CHARS are rejected whole, naming the column, before any other work."""
    frame = table.frame
    lengths = frame.apply(lambda column: column.astype(str).str.len())
    too_long = (lengths > MAX_CELL_CHARS).to_numpy()
    if not too_long.any():
        return frame, table.rows
    headers = [table.mapping.get(c, str(c).split(":", 1)[-1]) for c in frame.columns]
    for i in np.flatnonzero(too_long.any(axis=1)):
        columns = [headers[j] for j in np.flatnonzero(too_long[i])]
        original = {k: (f"{str(v)[:40]}…" if len(str(v)) > MAX_CELL_CHARS else v) for k, v in frame.iloc[i].items()}
        report.issues.append(
            Issue(
                table.rows[i],
                "rejected",
                [
                    f"“{c}”列内容过长（{int(lengths.iloc[i][frame.columns[headers.index(c)]]):,} 字符，上限"
                    f" {MAX_CELL_CHARS:,}）"
                    for c in columns
                ],
                original,
            )
        )
    keep = ~too_long.any(axis=1)
    return frame[keep].reset_index(drop=True), [r for r, k in zip(table.rows, keep) if k]


MAX_CELL_CHARS = 1_000


def _within_scope(report: Report, scope: str) -> list[dict]:
    """The rows of the account's region; every other row is rejected, naming its line (or record) and region."""
    keep, scope_name = [], regions.get(scope).display_name
    for row in report.rows:
        code = next((row[c] for c in ("region_adcode", "county_adcode", "focus_adcode") if row.get(c)), None)
        if within_scope(code, scope):
            keep.append(row)
            continue
        place = regions.get(code).display_name if code and regions.get(code) else (code or "未知地区")
        where = (
            f"第{row['source_row']}行"
            if row.get("source_row")
            else f"“{row.get('name') or row.get('counterpart_name') or ''}”（{row.get('date') or ''}）"
        )
        noted = [i for i in report.issues if row.get("source_row") and i.row == row["source_row"]]
        for issue in noted:  # a revision or note on a row that is now refused would say it was stored
            report.issues.remove(issue)
        original = noted[0].original if noted else {PREVIEW_NAMES.get(k, k): v for k, v in row.items()}
        report.issues.append(
            Issue(
                int(row.get("source_row") or 0),
                "rejected",
                [f"{where}：地区 {place}（{code}）不在您的数据范围 {scope_name} 内"],
                original,
            )
        )
    return keep


def _store(report: Report, user: str, source: str, eng, also=None) -> None:
    """The batch, its data rows and its issue rows in one transaction: all or nothing."""
    with eng.begin() as conn:
        batch_id = conn.execute(
            insert(store.batches).values(
                kind=report.kind,
                file_name=report.file_name,
                checksum=report.checksum,
                size_bytes=report.size,
                created_by=user,
                rows_accepted=report.accepted,
                rows_rejected=report.rejected,
                status="active",
                is_demo=False,
                source=source,
                note=report.summary() + " " + "；".join(report.notes)[:1500],
            )
        ).inserted_primary_key[0]
        if report.rows:
            store.bulk_insert(conn, TARGET[report.kind], [{**row, "batch_id": batch_id} for row in report.rows])
        if report.issues:
            conn.execute(
                insert(store.ingest_rows),
                [
                    {
                        "batch_id": batch_id,
                        "row_number": i.row,
                        "status": i.status,
                        "reasons": "；".join(i.reasons)[:2000],
                        "candidates": i.candidates[:500],
                        "original": _jsonable(i.original),
                    }
                    for i in report.issues
                ],
            )
        if also is not None:
            also(conn, batch_id)
        _fault_point("before-commit")
    report.batch_id = batch_id


def _fault_point(name: str) -> None:
    """A test's chosen moment to die: with ``DASHBOARD_FAULT_AT=<name>`` in its environment the process kills itself
    here (SIGKILL: no clean-up, no rollback of its own), so tests/test_ingest.py can show that a write cut off at that
    point leaves the store as it was. Does nothing when the variable is unset."""
    if os.environ.get("DASHBOARD_FAULT_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _jsonable(original: dict) -> dict:
    return {str(k): str(v) for k, v in original.items()}


def write_issues(report: Report, directory: Path | None = None) -> Path | None:
    """The rows that were not stored, with reasons, as a CSV the officer can fix and upload again."""
    if not report.issues:
        return None
    directory = directory or store.instance_path() / "reports"
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"batch_{report.batch_id}" if report.batch_id else f"dryrun_{report.checksum[:8]}"
    path = directory / f"{stem}_问题行.csv"
    formula_safe(report.issues_frame()).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def rollback(batch_id: int, user: str = "system", eng=None) -> bool:
    """Withdraw a batch: its rows stay in the store but no longer count; the data version changes."""
    eng = eng or store.engine()
    with eng.begin() as conn:
        done = conn.execute(
            update(store.batches)
            .where(store.batches.c.id == batch_id, store.batches.c.status == "active")
            .values(status="rolled_back", note=store.batches.c.note + f" [已由{user}回滚]")
        )
    return done.rowcount == 1


def issues_of(batch_id: int, eng=None) -> pd.DataFrame:
    eng = eng or store.engine()
    with eng.connect() as conn:
        rows = store.frame(conn, select(store.ingest_rows).where(store.ingest_rows.c.batch_id == batch_id))
    if rows.empty:
        return pd.DataFrame(columns=["行号", "状态", "原因", "候选地区"])
    body = pd.DataFrame(list(rows["original"]))
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "行号": rows["row_number"],
                    "状态": rows["status"].map(STATUS_NAMES),
                    "原因": rows["reasons"],
                    "候选地区": rows["candidates"],
                }
            ),
            body,
        ],
        axis=1,
    )
