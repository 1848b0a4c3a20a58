"""Supply adequacy per region: fever-clinic capacity against cases, masks, supply points, fever-clinic coverage.

``table(regions, sums, cases, covered_share)`` (pure: frames in, the table out) gives one row per region (index:
adcode) with these columns; ``data.resources.adequacy(day, level, parent)`` reads its inputs from the store:

- ``clinics``, ``clinic_capacity``: open fever clinics and the sum of their daily capacity (人次/日, ``daily_capacity``)
- ``new_7d_avg``: daily new confirmed cases, mean of the 7 days ending on ``day``; ``active``: active cases that day
- ``clinic_load`` = new_7d_avg / clinic_capacity, a fraction (0.9 = 90 %): the share of the clinics' daily
  capacity that the recent daily flow of confirmed cases takes, each confirmed case seen at least once. Suspected
  and other fever patients are not in the data, so this is a lower bound of the real load.
- ``mask_stock``: masks in stock at open designated pharmacies; ``masks_per_1000`` residents
- ``mask_use_per_day`` and ``stock_days`` = mask_stock / mask_use_per_day: the rate is an assumption (no pharmacy
  sales data): MASK_USE_PER_1000_PER_DAY masks per 1,000 residents a day, in ``mask_use_per_day``, the one place a
  sales series would replace it
- ``supply_points``, ``supply_per_10k``: open supply points per 10,000 residents
- ``covered_share``: people within reach of an open fever clinic (analytics/coverage.py) at ``distance_km``
- ``flagged`` (bool) and ``flag`` (the reasons, with the numbers behind them, in Chinese)

Per-resident figures use the census population every endpoint uses (`/api/v1/regions`): a unit's is the census
bulletin's, so 西安's includes the 769,627 residents of 西咸新区 it administers and 咸阳's does not (the facilities
are still counted where they stand). Cases: the region's own reports; counties have none until county data are
ingested, so their load is unknown (NaN), never 0. Facilities of the shipped set are demo data (``demo`` column).

All thresholds are in THRESHOLDS; the page and docs/methods.md state them from there.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def floored(value: float, digits: int) -> float:
    """Rounded down, so a written value never reads as the threshold it misses (6.98 days is 6.9, not 7.0 < 7.0)."""
    return math.floor(value * 10**digits + 1e-9) / 10**digits


# column -> (comparison, limit, Chinese label, how the value is written). One place for every threshold.
THRESHOLDS = {
    "clinic_load": (">=", 0.8, "发热门诊负荷", lambda v: f"{floored(v * 100, 0):.0f}%"),
    "stock_days": ("<", 7.0, "口罩可用天数", lambda v: f"{floored(v, 1):.1f}天"),
    "supply_per_10k": ("<", 0.3, "每万人物资保障点", lambda v: f"{floored(v, 2):.2f}处"),
    "covered_share": ("<", 0.8, "发热门诊覆盖人口", lambda v: f"{floored(v * 100, 0):.0f}%"),
}
MASK_USE_PER_1000_PER_DAY = 20.0  # assumed: no sales data; see mask_use_per_day
RATE_NOTE = f"口罩消耗速度按每千人每日{MASK_USE_PER_1000_PER_DAY:g}只假定（无药店销售数据）"
LOAD_NOTE = "发热门诊负荷 = 近7日日均新增确诊 ÷ 开放发热门诊日接诊能力（仅计确诊病例，为负荷下限）"
COLUMNS = [
    "name",
    "population",
    "clinics",
    "clinic_capacity",
    "new_7d_avg",
    "active",
    "clinic_load",
    "mask_stock",
    "masks_per_1000",
    "mask_use_per_day",
    "stock_days",
    "supply_points",
    "supply_per_10k",
    "covered_share",
    "flagged",
    "flag",
    "demo",
]


def thresholds_text() -> str:
    """The thresholds as the page and docs/methods.md say them: 发热门诊负荷≥80%；口罩可用天数<7.0天；..."""
    return "；".join(
        f"{label}{'≥' if op == '>=' else '<'}{write(limit)}" for op, limit, label, write in THRESHOLDS.values()
    )


def mask_use_per_day(population: pd.Series) -> pd.Series:
    """Masks used per day: THE rate assumption, in one place (population x MASK_USE_PER_1000_PER_DAY / 1000).
    With pharmacy sales data, return each region's recent daily sales here instead."""
    return population.astype(float) * MASK_USE_PER_1000_PER_DAY / 1000


def facility_sums(facilities: pd.DataFrame, key: str) -> pd.DataFrame:
    """Open facilities summed per region (``key``: the column naming the region, county_adcode or unit_adcode)."""
    open_ = facilities[facilities["status"] == "open"]

    def attr(name):
        return open_["attrs"].map(lambda a: float(a.get(name) or 0) if isinstance(a, dict) else 0.0)

    frame = pd.DataFrame(
        {
            "region": open_[key].astype(str),
            "clinics": (open_["kind"] == "fever_clinic").astype(int),
            "clinic_capacity": attr("daily_capacity").where(open_["kind"] == "fever_clinic", 0.0),
            "mask_stock": attr("mask_stock").where(open_["kind"] == "pharmacy", 0.0),
            "supply_points": (open_["kind"] == "supply_point").astype(int),
        }
    )
    sums = frame.groupby("region").sum()
    demo = facilities.groupby(facilities[key].astype(str))["is_demo"].any()
    return sums.join(demo.rename("demo"), how="outer")


def table(regions: pd.DataFrame, sums: pd.DataFrame, cases: pd.DataFrame, covered_share: pd.Series) -> pd.DataFrame:
    """The adequacy table (pure). ``regions``: index adcode, name, population; ``sums``: facility_sums;
    ``cases``: index adcode, new_7d_avg, active (NaN where not reported); ``covered_share``: index adcode."""
    out = regions[["name", "population"]].copy()
    out["population"] = out["population"].astype(float)
    sums = sums.reindex(out.index)
    for column in ("clinics", "clinic_capacity", "mask_stock", "supply_points"):
        out[column] = sums[column].fillna(0).to_numpy()
    out["new_7d_avg"] = pd.to_numeric(cases["new_7d_avg"].reindex(out.index), errors="coerce")
    out["active"] = pd.to_numeric(cases["active"].reindex(out.index), errors="coerce")
    capacity = out["clinic_capacity"].replace(0, np.nan)
    out["clinic_load"] = out["new_7d_avg"] / capacity
    # no open clinic but cases: unbounded load, said as such (inf) rather than hidden as NaN
    out.loc[(out["clinic_capacity"] == 0) & (out["new_7d_avg"] > 0), "clinic_load"] = np.inf
    out["masks_per_1000"] = out["mask_stock"] / out["population"] * 1000
    out["mask_use_per_day"] = mask_use_per_day(out["population"])
    out["stock_days"] = out["mask_stock"] / out["mask_use_per_day"].replace(0, np.nan)
    out["supply_per_10k"] = out["supply_points"] / out["population"] * 10_000
    out["covered_share"] = covered_share.reindex(out.index).to_numpy()
    reasons = [flag_reasons(row) for row in out.to_dict("index").values()]
    out["flag"] = ["；".join(r) for r in reasons]
    out["flagged"] = [bool(r) for r in reasons]
    out["demo"] = sums["demo"].fillna(False).astype(bool).to_numpy()
    return out[COLUMNS]


def flag_reasons(row: dict) -> list[str]:
    """Why a region is flagged, each reason with its number and the threshold: '口罩可用天数 3.2天（<7.0天）'."""
    out = []
    for column, (op, limit, label, write) in THRESHOLDS.items():
        value = row.get(column)
        if value is None or pd.isna(value):
            continue
        if (op == ">=" and value >= limit) or (op == "<" and value < limit):
            shown = "无开放发热门诊" if np.isinf(value) else write(value)
            out.append(f"{label} {shown}（{'≥' if op == '>=' else '<'}{write(limit)}）")
    return out
