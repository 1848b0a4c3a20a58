"""Judgement columns added to a region's daily frame: Rt, growth, doubling time, risk level, days since last case."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import growth, risk, rt

# The statuses with a figure of their own (see analytics.cases); Rt and growth are not shown on other days.
FIGURES = ("reported", "before_first")
MODEL_INPUT = "补报（跨越未上报日的报告）的病例平均分摊到其覆盖的各日后再估计；未上报日本身不给出估计"


def spread_catch_ups(new: pd.Series, span_days: pd.Series) -> pd.Series:
    """Daily cases for the models: a report covering ``span_days`` > 1 days (a catch-up after unreported days) is
    spread evenly over those days instead of counting as one day's burst; an unreported day counts nothing itself."""
    values = new.fillna(0).to_numpy(float)
    out = values.copy()
    span = span_days.fillna(1).to_numpy()
    for i in np.flatnonzero(span > 1):
        lo = max(0, i - int(span[i]) + 1)
        out[lo : i + 1] = values[i] / (i - lo + 1)
    return pd.Series(out, index=new.index)


def assess(daily: pd.DataFrame, imported_new: pd.Series | None = None, province: bool = False) -> pd.DataFrame:
    """``daily``: a region's rows (analytics.cases); ``imported_new``: daily imported cases, which are taken out of
    the local incidence for Rt (they infect others but were infected elsewhere). The province gets no risk level:
    the 2020-02-17 rule grades counties and cities, not a province (its view lists its units' levels instead)."""
    out = daily.copy()
    status = out["status"].to_numpy()
    has_figure = np.isin(status, FIGURES)
    if imported_new is None and not (out["new_confirmed"].fillna(0).to_numpy() > 0).any():
        return _quiet(out, has_figure, province)
    incidence = spread_catch_ups(out["new_confirmed"], out.get("span_days", pd.Series(1.0, index=out.index)))
    local = incidence
    if imported_new is not None:
        imported_new = imported_new.reindex(out.index).fillna(0)
        local = (incidence - imported_new).clip(lower=0)
    estimates = rt.cori(local, imported_new)
    for column in ("rt", "rt_low", "rt_high"):
        out[column] = np.where(has_figure, estimates[column].to_numpy(), np.nan)
    out["rt_cases"] = np.where(has_figure | (status == "missing"), estimates["rt_cases"].to_numpy(), np.nan)
    fitted = growth.log_linear_growth(incidence.rolling(7, min_periods=7).mean())
    for column in fitted:
        out[column] = fitted[column].where(has_figure)
    out["risk_level"] = (
        pd.Series(np.nan, index=out.index, dtype=object)
        if province
        else risk.risk_level(out["confirmed_cum"], out["new_confirmed"])
    )
    out["days_since_last_case"] = risk.days_since_last_case(out["new_confirmed"], out["confirmed_cum"])
    return out


def _quiet(out: pd.DataFrame, has_figure: np.ndarray, province: bool) -> pd.DataFrame:
    """A region without a single new case (most counties while a case list covers a wave elsewhere): no Rt, no
    growth, 低风险 wherever its count is known, no last case. The same as the full path gives, at a fraction of its
    cost (the build assesses every region of the province)."""
    nothing = np.full(len(out), np.nan)
    for column in (
        "rt",
        "rt_low",
        "rt_high",
        "growth_rate",
        "doubling_time_days",
        "halving_time_days",
        "days_since_last_case",
    ):
        out[column] = nothing
    cases = np.zeros(len(out))
    cases[: rt.WINDOW - 1] = np.nan  # as the full path's 7-day sum: no window before the 7th day
    out["rt_cases"] = np.where(has_figure | (out["status"].to_numpy() == "missing"), cases, np.nan)
    out["growth_trend"] = pd.Series(np.nan, index=out.index, dtype=object)
    out["risk_level"] = (
        pd.Series(np.nan, index=out.index, dtype=object)
        if province
        else pd.Series("low", index=out.index, dtype=object).where(out["confirmed_cum"].notna())
    )
    return out
