"""Risk level of a region on a day (低/中/高风险), by the rule in force; kept here, in one place, so that another
rule (for example the 2022 rule) can be added and chosen without touching the callers.

The rule of 2020-02-17 (国务院联防联控机制《关于科学防治精准施策分区分级做好新冠肺炎疫情防控工作的指导意见》):
- 低风险 low:     no confirmed case ever, or no new confirmed case in 14 days;
- 中风险 medium:  new cases within 14 days and cumulative <= 50; or cumulative > 50 without a cluster in 14 days;
- 高风险 high:    cumulative > 50 and a cluster (聚集性疫情) within 14 days.

Cluster information is not in the daily counts. Assumption used until case lists with links are ingested:
a region is taken to have had a cluster within 14 days when it reported 2 or more new cases in those 14 days
(the smallest cluster is 2 linked cases). This errs towards the higher level.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVELS = ("low", "medium", "high")
LEVEL_NAMES = {"low": "低风险", "medium": "中风险", "high": "高风险"}
LEVEL_COLOURS = {"low": "#2e9d4f", "medium": "#f2a516", "high": "#d7261e"}  # the colours of Chinese risk maps
CLUSTER_ASSUMPTION = "无聚集性疫情信息时，14日内新增≥2例视为可能存在聚集性疫情（偏保守）"
RULE = "2020-02-17"
RULE_TEXT = "国务院联防联控机制2020年2月17日分区分级标准"


def cluster_proxy(new_confirmed: pd.Series) -> pd.Series:
    """True where the 14 days ending that day had 2 or more new cases (see CLUSTER_ASSUMPTION)."""
    return new_confirmed.fillna(0).rolling(14, min_periods=1).sum() >= 2


def risk_2020(confirmed_cum: pd.Series, new_confirmed: pd.Series, cluster: pd.Series | None = None) -> pd.Series:
    """The 2020-02-17 rule, day by day. NaN where the cumulative count is unknown (not reported)."""
    new_14 = new_confirmed.fillna(0).rolling(14, min_periods=1).sum()
    cluster = cluster_proxy(new_confirmed) if cluster is None else cluster.astype(bool)
    level = np.where(
        (confirmed_cum.fillna(0) == 0) | (new_14 == 0),
        "low",
        np.where((confirmed_cum > 50) & cluster, "high", "medium"),
    )
    return pd.Series(level, index=confirmed_cum.index).where(confirmed_cum.notna())


RULES = {"2020-02-17": risk_2020}


def risk_level(confirmed_cum: pd.Series, new_confirmed: pd.Series, rule: str = RULE, **kwargs) -> pd.Series:
    return RULES[rule](confirmed_cum, new_confirmed, **kwargs)


def days_since_last_case(new_confirmed: pd.Series, confirmed_cum: pd.Series) -> pd.Series:
    """Days since the last day with a new case; NaN before the first case."""
    day_numbers = pd.Series(np.arange(len(new_confirmed), dtype=float), index=new_confirmed.index)
    last = day_numbers.where(new_confirmed.fillna(0) > 0).ffill()
    return (day_numbers - last).where(confirmed_cum.fillna(0) > 0)
