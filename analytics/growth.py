"""Growth rate and doubling time from a log-linear fit.

Over a window of ``window`` days ending on day t, fit ln(y_s) = c + r * s by least squares, where y is the 7-day
average of daily new cases (the average smooths the weekday pattern of reporting). r is the daily exponential
growth rate; the doubling time is ln 2 / r when r > 0 and the halving time ln 2 / -r when r < 0.
No estimate where any y in the window is 0 (the logarithm is undefined) or the window is incomplete; while a series
is young (its first 14 days of cases, when a 14-day window cannot exist yet and growth matters most), a 7-day
window is used. A rate within ±STABLE_RATE a day is 稳定 (stable): a doubling time of a year says nothing a 14-day
fit can support, so none is given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WINDOW = 14
YOUNG_WINDOW = 7
STABLE_RATE = np.log(2) / 60  # |r| below this: doubling or halving slower than 60 days, shown as 稳定
TREND_NAMES = {"growing": "上升", "declining": "下降", "stable": "稳定"}


def _rates(y: np.ndarray, window: int) -> np.ndarray:
    """The fitted rate of each window ending on day t (all windows at once: one matrix product)."""
    rates = np.full(len(y), np.nan)
    if len(y) < window:
        return rates
    s = np.arange(window, dtype=float)
    s_centered = s - s.mean()
    windows = np.lib.stride_tricks.sliding_window_view(y, window)
    ok = np.all(np.isfinite(windows) & (windows > 0), axis=1)
    logs = np.log(np.where(ok[:, None], windows, 1.0))
    fitted = (logs - logs.mean(axis=1, keepdims=True)) @ s_centered / (s_centered**2).sum()
    rates[window - 1 :] = np.where(ok, fitted, np.nan)
    return rates


def log_linear_growth(values: pd.Series, window: int = WINDOW) -> pd.DataFrame:
    """Columns: growth_rate (per day), growth_trend (growing | declining | stable), doubling_time_days (NaN unless
    growing), halving_time_days (NaN unless declining)."""
    y = values.astype(float).to_numpy()
    rates = _rates(y, window)
    positive = np.flatnonzero(np.isfinite(y) & (y > 0))
    if len(positive):  # young: the first `window` days after the first positive average
        young = np.zeros(len(y), bool)
        young[positive[0] : positive[0] + window] = True
        rates = np.where(np.isnan(rates) & young, _rates(y, YOUNG_WINDOW), rates)
    rate = pd.Series(rates, index=values.index)
    trend = pd.Series(
        np.where(rate > STABLE_RATE, "growing", np.where(rate < -STABLE_RATE, "declining", "stable")),
        index=values.index,
    ).where(rate.notna())
    with np.errstate(divide="ignore"):
        doubling = (np.log(2) / rate).where(trend == "growing")
        halving = (np.log(2) / -rate).where(trend == "declining")
    return pd.DataFrame(
        {"growth_rate": rate, "growth_trend": trend, "doubling_time_days": doubling, "halving_time_days": halving}
    )
