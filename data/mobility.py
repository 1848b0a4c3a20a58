"""Population flow (Baidu Migration, 百度迁徙) and national case data shipped with the dashboard, read into store rows.

Every counterpart name goes through the national gazetteer (geo/china.py) and must agree with the code in the file;
a disagreement stops the load with the file, row and names, rather than storing a wrong place.
Baidu's notice: the data are for non-commercial, informational use, and the copyright notice must be kept.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo import china

SOURCES = Path(__file__).resolve().parent / "sources"
CITY_SHARES = SOURCES / "shaanxi_migration_city_share_2020q1_eeid.csv"
PROVINCE_SHARES = SOURCES / "shaanxi_migration_share_xian_province_2020.csv"
SCALE_INDEX = SOURCES / "shaanxi_migration_scale_index_2020.csv"
NATIONAL_CASES = SOURCES / "china_city_daily_2020.csv"
BAIDU_NOTICE = "迁徙数据来源：百度迁徙（qianxi.baidu.com），仅限非商业用途，请保留此声明"
FLOW_SOURCE = f"{BAIDU_NOTICE}；经 Emergent-Epidemics/eeid_mobility 与 niuyishuai/COVID-19-data 整理"
NATIONAL_SOURCE = "全国各地级市累计病例：各地卫健委通报，经 canghailan/Wuhan-2019-nCoV 整理（MIT）"


def _checked_codes(names: pd.Series, codes: pd.Series, levels: pd.Series, file: Path) -> pd.Series:
    """The gazetteer's code for each name; the file's own code must agree."""
    out = {}
    keys = list(zip(names.tolist(), codes.tolist(), levels.tolist()))  # plain lists: a Series boxes every value
    for name, code, level in set(keys):
        found = china.resolve(name, level=level)
        resolved = found.adcode if found.ok else china.resolve(code, level=level).adcode
        if resolved is None or (found.ok and found.adcode != code):
            raise ValueError(f"{file.name}: 地区「{name}」（代码 {code}）无法与国家地名表一致：{found.note}")
        out[(name, code, level)] = resolved
    return pd.Series([out[k] for k in keys], index=names.index)


def read_flows() -> pd.DataFrame:
    """flows rows: date, direction (in/out), focus_adcode, counterpart_adcode/name/level, share_pct."""
    city = pd.read_csv(CITY_SHARES, dtype={"shaanxi_city_adcode": str, "counterpart_adcode": str})
    city_rows = pd.DataFrame(
        {
            "date": pd.to_datetime(city.date).dt.date,
            "direction": city.direction.map({"move_in": "in", "move_out": "out"}),
            "focus_adcode": city.shaanxi_city_adcode,
            "counterpart_adcode": _checked_codes(
                city.counterpart_city, city.counterpart_adcode, pd.Series("city", index=city.index), CITY_SHARES
            ),
            "counterpart_name": city.counterpart_city,
            "counterpart_level": "city",
            "share_pct": city.share_pct,
        }
    )
    wide = pd.read_csv(PROVINCE_SHARES, dtype={"counterpart_adcode": str})
    # 西安's city-level shares are already in the city file (identical values); take the rest from this one
    wide = wide[~((wide.area_name == "西安市") & (wide.rank_level == "city"))]
    focus = wide.area_name.map({"西安市": "610100", "陕西省": "610000"})
    codes = _checked_codes(wide.counterpart_name, wide.counterpart_adcode, wide.rank_level, PROVINCE_SHARES)
    parts = []
    for direction, column in (("in", "move_in_share_pct"), ("out", "move_out_share_pct")):
        part = pd.DataFrame(
            {
                "date": pd.to_datetime(wide.date).dt.date,
                "direction": direction,
                "focus_adcode": focus,
                "counterpart_adcode": codes,
                "counterpart_name": wide.counterpart_name,
                "counterpart_level": wide.rank_level,
                "share_pct": wide[column],
            }
        )
        parts.append(part[part.share_pct.notna()])  # a counterpart only in the other direction's top 100
    return pd.concat([city_rows, *parts], ignore_index=True)


def read_scale_index() -> pd.DataFrame:
    raw = pd.read_csv(SCALE_INDEX, dtype={"area_adcode": str})
    parts = [
        pd.DataFrame(
            {"date": pd.to_datetime(raw.date).dt.date, "adcode": raw.area_adcode, "direction": d, "scale_index": raw[c]}
        )
        for d, c in (("in", "move_in_index"), ("out", "move_out_index"))
    ]
    return pd.concat(parts, ignore_index=True)


def read_national_cases() -> pd.DataFrame:
    """City-level cumulative cases across China by as-of date (one row per city and day; the earlier source date
    where the 2020-02-07 convention switch gives two)."""
    raw = pd.read_csv(NATIONAL_CASES, dtype={"city_adcode": str})
    raw = raw[raw.level == "city"].sort_values(["as_of_date", "date"])
    raw = raw.drop_duplicates(["as_of_date", "city_adcode"], keep="first")
    return pd.DataFrame(
        {
            "as_of_date": pd.to_datetime(raw.as_of_date).dt.date,
            "adcode": raw.city_adcode,
            "name": raw.city_name,
            "confirmed_cum": raw.confirmed_cum,
            "cured_cum": raw.cured_cum,
            "dead_cum": raw.dead_cum,
        }
    )
