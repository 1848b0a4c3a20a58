"""Growth rate and doubling time from a log-linear fit.

Over a window of ``window`` days ending on day t, fit ln(y_s) = c + r * s by least squares, where y is the 7-day
average of daily new cases (the average smooths the weekday pattern of reporting). r is the daily exponential
growth rate; the doubling time is ln 2 / r when r > 0 and the halving time ln 2 / -r when r < 0.
No estimate where any y in the window is 0 (the logarithm is undefined) or the window is incomplete.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

WINDOW = 14


def log_linear_growth(values: pd.Series, window: int = WINDOW) -> pd.DataFrame:
    """Columns: growth_rate (per day), doubling_time_days (NaN unless r > 0), halving_time_days (NaN unless r < 0)."""
    y = values.astype(float).to_numpy()
    rates = np.full(len(y), np.nan)
    s = np.arange(window, dtype=float)
    s_centered = s - s.mean()
    denominator = (s_centered ** 2).sum()
    for t in range(window - 1, len(y)):
        part = y[t - window + 1: t + 1]
        if np.all(np.isfinite(part)) and np.all(part > 0):
            logs = np.log(part)
            rates[t] = (s_centered * (logs - logs.mean())).sum() / denominator
    rate = pd.Series(rates, index=values.index)
    with np.errstate(divide="ignore"):
        doubling = (np.log(2) / rate).where(rate > 0)
        halving = (np.log(2) / -rate).where(rate < 0)
    return pd.DataFrame({"growth_rate": rate, "doubling_time_days": doubling, "halving_time_days": halving})
