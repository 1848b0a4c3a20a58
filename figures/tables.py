"""The ranking table of regions on a day: one column list for the page and the CSV download, so both agree."""
from __future__ import annotations

import pandas as pd

from analytics.risk import LEVEL_NAMES, LEVELS
from figures import formatting as fmt

# column -> (Chinese header, formatter for the page; ``missing`` is what an empty cell says)
RANKING_COLUMNS = {
    "confirmed_cum": ("累计确诊", lambda v, missing=fmt.MISSING: fmt.count(v, missing=missing)),
    "new_7d": ("近7日新增", lambda v, missing=fmt.MISSING: fmt.count(v, missing=missing)),
    "incidence_7d_per_100k": ("每10万人近7日新增", lambda v, missing=fmt.MISSING: fmt.rate(v, 3, missing=missing)),
    "rt": ("Rt", lambda v, missing=None: fmt.rate(v, 2, missing="—")),
    "risk_level": ("风险等级", lambda v, missing=None: LEVEL_NAMES.get(v, "—") if isinstance(v, str) else "—"),
    "days_since_last_case": ("距最近新增（天）", lambda v, missing=None: fmt.count(v, missing="—")),
}


def sort_ranking(frame: pd.DataFrame, column: str, ascending: bool) -> pd.DataFrame:
    """Sort by a column, risk by its order (低 < 中 < 高), missing values always last."""
    key = None
    if column == "risk_level":
        order = {level: i for i, level in enumerate(LEVELS)}
        key = lambda s: s.map(order)  # noqa: E731
    if column == "name":
        return frame.sort_index(ascending=ascending)
    return frame.sort_values(column, ascending=ascending, na_position="last", key=key, kind="stable")


def ranking_csv(frame: pd.DataFrame, day) -> str:
    """CSV with a Chinese header row, unformatted numbers and the as-of date on every row (a plain table that
    Excel and scripts read alike; the UTF-8 BOM lets Excel see the Chinese)."""
    out = pd.DataFrame({"截至日期": pd.Timestamp(day).date().isoformat(), "地区代码": frame.index,
                        "地区": frame["name"]})
    for column, (header, _) in RANKING_COLUMNS.items():
        values = frame[column]
        out[header] = values.map(LEVEL_NAMES).fillna("") if column == "risk_level" else values.round(4).to_numpy()
    return "\ufeff" + out.to_csv(index=False)
