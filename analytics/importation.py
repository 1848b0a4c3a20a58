"""Importation risk carried by population flows.

For a destination d on day t:

    risk(d, t) = sum over origins o of  share(o -> d, t) / 100  x  active_per_100k(o, t)

share(o -> d, t): the % of d's move-in on day t that came from o (Baidu Migration, top 100 origins);
active_per_100k(o, t): the origin's active cases (confirmed - cured - dead, cumulative to 24:00 of t) per 100,000
residents. The result reads as "active cases per 100,000 in the places today's arrivals came from", a weighted
average over the listed origins. Origins without a reported case count 0; before the national series starts there
is no estimate. Caveats: shares, not head counts (multiply by the scale index for relative volume); city-level
cured counts before 2020-02-07 are incomplete, so early active counts are overstated.

``expected_imports`` and ``check`` test the metric against what happened (``METHOD`` says how, in Chinese): the
risk times the move-in scale index, summed over the first three weeks after 2020-01-20, against each unit's
confirmed cases by 2020-02-15.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

FORMULA = "输入风险指数 = Σ 来源地（迁入占比% ÷ 100 × 来源地每10万人现有确诊）"


def origin_incidence(cases: pd.DataFrame, population: pd.Series, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Active cases per 100,000 for every origin and day (index date, columns adcode).

    ``cases``: as_of_date, adcode, confirmed_cum, cured_cum, dead_cum (one row per reported city and day).
    Between reports the last value holds; before a city's first report it has 0 active cases.
    """
    active = cases.assign(
        active=cases.confirmed_cum - cases.cured_cum - cases.dead_cum, as_of_date=pd.to_datetime(cases.as_of_date)
    ).pivot_table(index="as_of_date", columns="adcode", values="active", aggfunc="last")
    first = active.index.min()
    active = active.reindex(days).ffill().fillna(0.0)
    active.loc[active.index < first] = float("nan")  # no national series yet: no estimate, not zero
    pop = population.reindex(active.columns)
    return active.div(pop, axis=1) * 100_000


def contributions(inflow: pd.DataFrame, incidence: pd.DataFrame) -> pd.DataFrame:
    """Each origin's part of the risk: inflow rows (date, focus_adcode, counterpart_adcode, share_pct) with
    ``origin_active_per_100k`` and ``contribution`` added."""
    long = incidence.stack(future_stack=True).rename("origin_active_per_100k").reset_index()
    long.columns = ["date", "counterpart_adcode", "origin_active_per_100k"]
    out = inflow.merge(long, on=["date", "counterpart_adcode"], how="left")
    started = out["date"] >= incidence.index[incidence.notna().any(axis=1)].min()
    out["origin_active_per_100k"] = out["origin_active_per_100k"].fillna(0.0).where(started)  # never reported: 0
    out["contribution"] = out["share_pct"] / 100 * out["origin_active_per_100k"]
    return out


def risk(contrib: pd.DataFrame) -> pd.Series:
    """Risk per (focus_adcode, date): the sum of contributions; NaN where no origin had an incidence figure."""
    return contrib.groupby(["focus_adcode", "date"])["contribution"].sum(min_count=1)


# ---- the model checked against what happened (issue 19, item 3) -------------------------------------------------

METHOD = (
    "输入风险模型检验：对每个报告单位 d，预期输入病例（相对值）= Σ 日期 t（2020年1月21日至2月10日，共21天）"
    "〔d 当日迁入规模指数 × Σ 来源地 o（o→d 迁入占比% ÷ 100 × o 当日每10万人现有确诊）〕，"
    "即看板的输入风险指数乘以百度迁徙迁入规模指数（相对流量）后按日累加。百度迁徙只给占比（前100个来源地）和无量纲的"
    "规模指数，不给人数，所以预期值是相对量：只比较各单位的高低，不与病例数比大小；乘任何常数，相关系数和 R² 都不变。"
    "来源地病例为全国各地级市通报的累计确诊减治愈、死亡（含省内城市，故省内病例既是结果也进入邻近单位的预期值）；"
    "未通报病例的来源地按 0 计；2月7日前城市治愈数不全，早期现有确诊偏高；武汉1月下旬的通报数远低于实际感染数。"
    "观察值为各单位截至2020年2月15日的累计确诊，含本地传播病例，不只是输入病例。百度迁徙不单列杨凌示范区和韩城市，"
    "其流动分别含在咸阳、渭南中，故两地的确诊并入咸阳、渭南（共10个单位）。"
    "统计量：Spearman 秩相关 ρ 及其 p 值；观察值对预期值线性回归的 R²；两者取 log(1+x) 后线性回归的 R²。"
    "只有10个单位，p 值和 R² 都很粗；一个单位病例远多于其他单位时（如西安），线性 R² 主要由这一点决定，ρ 和对数 R² "
    "受其影响小。对照：武汉迁入量（1月1日至24日，迁入规模指数 × 武汉占比，不乘病例），即 Jia 等（Nature 2020）的口径。"
)


def expected_imports(contrib: pd.DataFrame, scale_in: pd.Series, start, end) -> pd.DataFrame:
    """Expected imported cases (relative) per destination over the days ``start``..``end``:

        expected(d) = sum over t of  scale_in(d, t) x sum over o of contribution(o -> d, t)

    ``contrib``: rows focus_adcode, date, contribution (share/100 x origin active per 100k, as ``contributions``
    makes them; filter the origins before calling for a variant); ``scale_in``: Baidu's move-in scale index,
    index (adcode, date). A day counts where both the index and at least one origin's figure are known.
    Returns index focus_adcode, columns expected and days (the days that counted)."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    rows = contrib[(contrib["date"] >= start) & (contrib["date"] <= end)]
    daily = rows.groupby(["focus_adcode", "date"])["contribution"].sum(min_count=1)
    scale = scale_in.reindex(daily.index)
    weighted = (daily * scale.to_numpy()).dropna()
    out = weighted.groupby(level=0).agg(["sum", "size"])
    return out.rename(columns={"sum": "expected", "size": "days"}).rename_axis("focus_adcode")


def check(expected: pd.Series, observed: pd.Series) -> dict:
    """How well ``expected`` predicts ``observed`` over the units both know (the index): Spearman's rho with its
    p-value, R² of the least-squares line observed = intercept + slope x expected, the same on log(1+x) of both,
    and n. Statistics that cannot be computed (fewer than 3 units, or a constant side) are NaN."""
    both = pd.concat([expected.rename("e"), observed.rename("o")], axis=1, join="inner").astype(float).dropna()
    out = {
        "n": len(both),
        "rho": math.nan,
        "p": math.nan,
        "r2": math.nan,
        "r2_log": math.nan,
        "slope": math.nan,
        "intercept": math.nan,
        "slope_log": math.nan,
        "intercept_log": math.nan,
    }
    if len(both) < 3 or both["e"].nunique() < 2 or both["o"].nunique() < 2:
        return out
    from scipy import stats  # noqa: PLC0415  (0.6 s to import: off every start of the app and of each command)

    rho, p = stats.spearmanr(both["e"], both["o"])
    line = stats.linregress(both["e"], both["o"])
    log = stats.linregress(np.log1p(both["e"]), np.log1p(both["o"]))
    out.update(
        rho=float(rho),
        p=float(p),
        r2=float(line.rvalue**2),
        slope=float(line.slope),
        intercept=float(line.intercept),
        r2_log=float(log.rvalue**2),
        slope_log=float(log.slope),
        intercept_log=float(log.intercept),
    )
    return out
