"""Judgement columns added to a region's daily frame: Rt, growth, doubling time, risk level, days since last case."""
from __future__ import annotations

import pandas as pd

from analytics import growth, risk, rt


def assess(daily: pd.DataFrame, imported_new: pd.Series | None = None) -> pd.DataFrame:
    """``daily`` from ``analytics.cases.daily_from_cumulative``; ``imported_new``: daily imported cases, which are
    taken out of the local incidence for Rt (they infect others but were infected elsewhere)."""
    out = daily.copy()
    new = out["new_confirmed"].fillna(0)
    local = new
    if imported_new is not None:
        imported_new = imported_new.reindex(out.index).fillna(0)
        local = (new - imported_new).clip(lower=0)
    out = out.join(rt.cori(local, imported_new)[["rt", "rt_low", "rt_high", "rt_cases"]])
    out = out.join(growth.log_linear_growth(out["new_7d_avg"]))
    out["risk_level"] = risk.risk_level(out["confirmed_cum"], out["new_confirmed"])
    out["days_since_last_case"] = risk.days_since_last_case(out["new_confirmed"], out["confirmed_cum"])
    return out
