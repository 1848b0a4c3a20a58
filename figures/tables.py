"""The ranking table of regions on a day: one column list for the page and the CSV download, so both agree."""

from __future__ import annotations

import io

import pandas as pd

from analytics.risk import LEVEL_NAMES, LEVELS
from data import catalogue
from data import formatting as fmt
from data.catalogue import title
from data.spreadsheet import formula_safe

_INCIDENCE_DIGITS = catalogue.field_named("incidence_7d_per_100k").digits
_RT_DIGITS = catalogue.field_named("rt").digits

# column -> (Chinese header, formatter for the page; ``missing`` is what an empty cell says)
RANKING_COLUMNS = {
    "confirmed_cum": (title("confirmed_cum"), lambda v, missing=fmt.MISSING: fmt.count(v, missing=missing)),
    "new_7d": (title("new_7d"), lambda v, missing=fmt.MISSING: fmt.count(v, missing=missing)),
    "incidence_7d_per_100k": (
        title("incidence_7d_per_100k"),
        lambda v, missing=fmt.MISSING: fmt.rate(v, _INCIDENCE_DIGITS, missing=missing),
    ),
    "rt": (title("rt"), lambda v, missing=None: fmt.rate(v, _RT_DIGITS, missing="—")),
    "risk_level": (title("risk_level"), lambda v, missing=None: LEVEL_NAMES.get(v, "—") if isinstance(v, str) else "—"),
    "days_since_last_case": (title("days_since_last_case"), lambda v, missing=None: fmt.count(v, missing="—")),
}


def sort_ranking(frame: pd.DataFrame, column: str, ascending: bool) -> pd.DataFrame:
    """Sort by a column, risk by its order (低 < 中 < 高), missing values always last."""
    key = None
    if column == "risk_level":
        order = {level: i for i, level in enumerate(LEVELS)}

        def key(s):
            return s.map(order)

    if column == "name":
        return frame.sort_index(ascending=ascending)
    return frame.sort_values(column, ascending=ascending, na_position="last", key=key, kind="stable")


def ranking_csv(frame: pd.DataFrame, day, zones: dict | None = None) -> str:
    """CSV with a Chinese header row, unformatted numbers and the as-of date on every row (a plain table that
    Excel and scripts read alike; the UTF-8 BOM lets Excel see the Chinese). ``zones``: unit adcode -> its
    functional zones' rows (name, confirmed_cum, new_7d), listed under the unit as 其中 rows."""
    day_head, code_head, name_head = (title(c) for c in ("date", "adcode", "name"))
    out = pd.DataFrame(
        {day_head: pd.Timestamp(day).date().isoformat(), code_head: frame.index, name_head: frame["name"]}
    )
    for column, (header, _) in RANKING_COLUMNS.items():
        values = frame[column]
        out[header] = values.map(LEVEL_NAMES).fillna("") if column == "risk_level" else values.round(4).to_numpy()
    if zones:
        parts = []
        for i, code in enumerate(frame.index):
            parts.append(out.iloc[[i]])
            for name, cum, new_7d in zones.get(code, []):
                parts.append(
                    pd.DataFrame(
                        [
                            {
                                day_head: out[day_head].iloc[i],
                                code_head: code,
                                name_head: f"{frame['name'].iloc[i]} 其中：{name}（功能区）",
                                RANKING_COLUMNS["confirmed_cum"][0]: cum,
                                RANKING_COLUMNS["new_7d"][0]: new_7d,
                            }
                        ]
                    )
                )
        out = pd.concat(parts, ignore_index=True)
    return to_csv(out)


# ---- the table behind each chart, for CSV/XLSX download (Chinese headers, the view's filters applied) ---------
SERIES_COLUMNS = {
    c: title(c)
    for c in (
        "confirmed_cum",
        "cured_cum",
        "dead_cum",
        "active",
        "new_confirmed",
        "correction_confirmed",
        "new_7d",
        "new_7d_avg",
        "incidence_7d_per_100k",
        "rt",
        "rt_low",
        "rt_high",
        "risk_level",
        "status",
    )
}
STATUS_NAMES = {"reported": "已上报", "missing": "未上报", "before_first": "首例前"}
UNIT_COLUMNS = {c: title(c) for c in catalogue.MAP_METRICS}  # the map's download: every metric the map can show


COUNT_COLUMNS = {"confirmed_cum", "cured_cum", "dead_cum", "active", "new_confirmed", "correction_confirmed", "new_7d"}


def series_table(series: pd.DataFrame, region_name: str) -> pd.DataFrame:
    out = pd.DataFrame({"日期": series.index.strftime("%Y-%m-%d"), "地区": region_name})
    for column, header in SERIES_COLUMNS.items():
        values = series[column]
        if column in COUNT_COLUMNS:
            values = values.round().astype("Int64")  # counts as whole numbers; missing stays empty
        elif column == "risk_level":
            values = values.map(LEVEL_NAMES)
        elif column == "status":
            values = values.map(STATUS_NAMES)
        elif values.dtype.kind == "f":
            values = values.round(4)
        out[header] = values.array
    return out


def units_table(units: pd.DataFrame, day) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            title("date"): pd.Timestamp(day).date().isoformat(),
            title("adcode"): units.index,
            title("name"): units["name"].to_numpy(),
        }
    )
    for column, header in UNIT_COLUMNS.items():
        values = units[column] if column in units else pd.Series(index=units.index, dtype=float)
        if column in COUNT_COLUMNS:
            values = pd.to_numeric(values).round().astype("Int64")
        out[header] = (values.map(LEVEL_NAMES) if column == "risk_level" else values).array
    return out


def flow_ranking_table(ranking: pd.DataFrame, focus_name: str, day, direction: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "日期": pd.Timestamp(day).date().isoformat(),
            "本地": focus_name,
            "方向": "迁入来源" if direction == "in" else "迁出目的地",
            "排名": range(1, len(ranking) + 1),
            "地区代码": ranking["counterpart_adcode"].to_numpy(),
            "地区": ranking["counterpart_name"].to_numpy(),
            "所属省份": ranking["province"].to_numpy(),
            title("share_pct", "flows"): ranking["share_pct"].to_numpy(),
            title("index", "flows"): ranking["volume"].round(6).to_numpy(),
            "占比较7日前(百分点)": ranking["share_change_7d"].to_numpy(),
        }
    )


def to_xlsx(frame: pd.DataFrame, sheet: str) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        formula_safe(frame).to_excel(writer, index=False, sheet_name=sheet[:31])
        widths = writer.sheets[sheet[:31]].column_dimensions
        for i, column in enumerate(frame.columns):
            widths[chr(65 + i) if i < 26 else "A"].width = max(10, len(str(column)) * 2 + 2)
    return buffer.getvalue()


def to_csv(frame: pd.DataFrame) -> str:
    """CSV for people: a BOM so Excel reads the Chinese, formulas neutralised, CRLF rows as RFC 4180 has them (the
    csv module then quotes a cell holding a bare CR, which would otherwise split its row)."""
    return "\ufeff" + formula_safe(frame).to_csv(index=False, lineterminator="\r\n")
