"""Data quality for `/data`: which reports are missing, late or revised, which names could not be resolved, and
where the figures disagree with themselves. Read-only; computed from the store on request."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from data import formatting as fmt
from data import queries, store
from geo import regions
from geo.units import PROVINCE


def batches(eng=None) -> pd.DataFrame:
    eng = eng or store.engine()
    b = store.batches
    with eng.connect() as conn:
        return store.frame(
            conn,
            select(
                b.c.id,
                b.c.created_at,
                b.c.kind,
                b.c.file_name,
                b.c.rows_accepted,
                b.c.rows_rejected,
                b.c.status,
                b.c.created_by,
                b.c.is_demo,
                b.c.note,
            ).order_by(b.c.id.desc()),
        )


def missing_reports(days: int = 14, eng=None) -> pd.DataFrame:
    """Units without a report on days after their first one: in the last ``days`` days of data, or, when there
    are none there, over the whole series."""
    end = pd.Timestamp(queries.case_data(eng).end)
    gaps = {}
    for unit in regions.units():
        series = queries.region_series(unit.adcode, eng)
        if series is not None:
            gaps[unit.display_name] = series.index[series["status"] == "missing"]
    recent = {name: days_ for name, d in gaps.items() if len(days_ := d[d > end - pd.Timedelta(days=days)])}
    chosen = recent or {name: d for name, d in gaps.items() if len(d)}
    return pd.DataFrame(
        [
            {
                "地区": name,
                "未上报天数": len(d),
                "日期": "、".join(fmt.day(x) for x in d[:10]) + ("…" if len(d) > 10 else ""),
            }
            for name, d in chosen.items()
        ],
        columns=["地区", "未上报天数", "日期"],
    )


def revisions(eng=None) -> pd.DataFrame:
    """(region, day) reported by more than one active batch with different figures; the latest is shown."""
    eng = eng or store.engine()
    cr, b = store.case_reports, store.batches
    with eng.connect() as conn:
        multi = store.frame(
            conn,
            select(cr.c.region_adcode, cr.c.as_of_date, cr.c.confirmed_cum, cr.c.batch_id)
            .join(b, b.c.id == cr.c.batch_id)
            .where(b.c.status == "active", cr.c.category == "reported"),
        )
    if multi.empty:
        return pd.DataFrame(columns=["地区", "日期", "各批次累计确诊（旧→新）"])
    counted = multi.groupby(["region_adcode", "as_of_date"]).filter(lambda g: g.confirmed_cum.nunique() > 1)
    rows = []
    for (code, day), group in counted.sort_values("batch_id").groupby(["region_adcode", "as_of_date"]):
        rows.append(
            {
                "地区": regions.get(code).display_name,
                "日期": str(day),
                "各批次累计确诊（旧→新）": "→".join(
                    f"{v}（批次{bid}）" for v, bid in zip(group.confirmed_cum, group.batch_id)
                ),
            }
        )
    return pd.DataFrame(rows, columns=["地区", "日期", "各批次累计确诊（旧→新）"])


def late_reports(eng=None) -> pd.DataFrame:
    """Rows of ingested batches that arrived more than a day after their as-of date (迟报)."""
    eng = eng or store.engine()
    cr, b = store.case_reports, store.batches
    with eng.connect() as conn:
        rows = store.frame(
            conn,
            select(cr.c.region_adcode, cr.c.as_of_date, b.c.created_at, b.c.id)
            .join(b, b.c.id == cr.c.batch_id)
            .where(b.c.status == "active", b.c.created_by != "system"),
        )
    if rows.empty:
        return pd.DataFrame(columns=["地区", "日期", "入库时间", "批次"])
    rows["delay"] = pd.to_datetime(rows.created_at).dt.tz_localize(None).dt.normalize() - pd.to_datetime(
        rows.as_of_date
    )
    late = rows[rows.delay > pd.Timedelta(days=1)]
    return pd.DataFrame(
        {
            "地区": [regions.get(c).display_name for c in late.region_adcode],
            "日期": late.as_of_date.astype(str),
            "入库时间": late.created_at.astype(str),
            "批次": late.id,
        }
    )


def unresolved_names(eng=None) -> pd.DataFrame:
    eng = eng or store.engine()
    ir, b = store.ingest_rows, store.batches
    with eng.connect() as conn:
        rows = store.frame(
            conn,
            select(ir.c.original, ir.c.reasons, ir.c.candidates, ir.c.batch_id)
            .join(b, b.c.id == ir.c.batch_id)
            .where(b.c.status == "active", ir.c.status == "unresolved"),
        )
    if rows.empty:
        return pd.DataFrame(columns=["名称", "出现次数", "原因", "候选地区", "批次"])
    rows["名称"] = [
        next(
            (
                v
                for k, v in o.items()
                if k in ("地区", "区县", "所在区县", "区域", "现住址区县", "region", "迁出地", "迁入地")
            ),
            "",
        )
        or "；".join(map(str, o.values()))[:30]
        for o in rows.original
    ]
    grouped = rows.groupby("名称").agg(
        出现次数=("reasons", "size"),
        原因=("reasons", "first"),
        候选地区=("candidates", "first"),
        批次=("batch_id", lambda s: "、".join(map(str, sorted(set(s))))),
    )
    return grouped.reset_index().sort_values("出现次数", ascending=False)


def placed_higher(eng=None) -> pd.DataFrame:
    """Cases of case lists whose residence names no county, counted at the unit or the province: how many, where
    they went and the counties (or cities) they could be, for someone to place them."""
    eng = eng or store.engine()
    ir, b = store.ingest_rows, store.batches
    with eng.connect() as conn:
        rows = store.frame(
            conn,
            select(ir.c.reasons, ir.c.candidates, ir.c.batch_id)
            .join(b, b.c.id == ir.c.batch_id)
            .where(b.c.status == "active", ir.c.status == "partial"),
        )
    if rows.empty:
        return pd.DataFrame(columns=["计入", "病例数", "候选地区", "批次"])
    rows["计入"] = rows.reasons.str.replace("现住地区：", "", regex=False)
    grouped = rows.groupby("计入").agg(
        病例数=("reasons", "size"),
        候选地区=("candidates", "first"),
        批次=("batch_id", lambda s: "、".join(map(str, sorted(set(s))))),
    )
    return grouped.reset_index().sort_values("病例数", ascending=False)


def inconsistencies(eng=None) -> pd.DataFrame:
    """Province total vs the sum of its parts, and corrections (cumulative counts that went down)."""
    data = queries.case_data(eng)
    rows = []
    province = queries.region_series(PROVINCE, eng)
    if province is not None:
        basis = province["basis"].value_counts()
        if basis.get("sum_of_units"):
            rows.append(
                {
                    "类型": "全省口径",
                    "说明": f"{int(basis['sum_of_units'])} 天按各市（区）之和计算全省"
                    f"（省级行自3月起疑差一日），{int(basis.get('own_row', 0))} 天用省级通报数",
                }
            )
    if "parts_confirmed_cum" in data.daily:  # a unit's own report against the sum of its counties and zones (口径差异)
        both = data.daily[data.daily["parts_confirmed_cum"].notna() & (data.daily["basis"] == "own_row")]
        differ = both[both["parts_confirmed_cum"] != both["confirmed_cum"]]
        for adcode, frame in differ.groupby(level=0):
            days = frame.index.get_level_values("date")
            last = frame.iloc[-1]
            rows.append(
                {
                    "类型": "口径差异",
                    "说明": (
                        f"{regions.get(adcode).display_name} 有 {len(frame)} 天本级通报数与下级（区县、功能区、个案）"
                        "合计不同"
                        f"（{fmt.day(days[0])}至{fmt.day(days[-1])}；最近一天本级 {int(last['confirmed_cum'])}、"
                        f"下级合计 {int(last['parts_confirmed_cum'])}），以本级通报数为准"
                    ),
                }
            )
    for adcode, frame in data.daily.groupby(level=0):
        drops = frame[frame["correction_confirmed"] < 0]
        for (_, day), row in drops.iterrows():
            rows.append(
                {
                    "类型": "核减订正",
                    "说明": f"{regions.get(adcode).display_name} {fmt.day(day)} 累计确诊核减 "
                    f"{int(-row['correction_confirmed'])} 例",
                }
            )
    return pd.DataFrame(rows, columns=["类型", "说明"])
