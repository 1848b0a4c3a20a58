"""Numbers and dates the way Chinese officials write them: 1,234 例, 3.2万, 2月15日, 截至2020年2月15日24时."""

from __future__ import annotations

import math

import pandas as pd

MISSING = "未上报"


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def count(value, missing: str = MISSING) -> str:
    """1234 -> '1,234'; 123456 -> '12.3万' (万 from 100,000 on, where digits stop reading well at a glance)."""
    if is_missing(value):
        return missing
    value = float(value)
    if abs(value) >= 100_000:
        return f"{value / 10_000:,.1f}万".replace(".0万", "万")
    return f"{value:,.0f}"


def rate(value, digits: int = 2, missing: str = MISSING) -> str:
    return missing if is_missing(value) else f"{float(value):,.{digits}f}"


def signed(value, missing: str = "") -> str:
    """Change against the day before: '+3', '-2', '持平'."""
    if is_missing(value):
        return missing
    value = int(value)
    return "持平" if value == 0 else f"{value:+,d}"


def day(value) -> str:
    """2020-02-15 -> '2月15日'."""
    ts = pd.Timestamp(value)
    return f"{ts.month}月{ts.day}日"


def full_day(value) -> str:
    ts = pd.Timestamp(value)
    return f"{ts.year}年{ts.month}月{ts.day}日"


def as_of(value) -> str:
    """The as-of line every view carries: '截至2020年2月15日24时'."""
    return f"截至{full_day(value)}24时"
