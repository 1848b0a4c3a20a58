"""Forecasts of daily new confirmed cases, 1 to 14 days after an origin day, with 50 % and 90 % intervals.

Two models and their combination, each made only from the days up to the origin (``series`` ends there):

- **Renewal** (the model behind EpiEstim's and EpiNow2's projections): I_t ~ NegBin(mean R x Lambda_t, k), with
  Lambda_t = sum_s I_t-s w_s over the serial interval used for Rt (analytics/rt.py). R is drawn from the Cori
  posterior of the last 7 days (kept fixed along a path: the epidemic goes on as it went last week), so the
  uncertainty of Rt is carried through; every path feeds its own simulated cases back into Lambda. The dispersion
  k comes from the last 28 days' one-day-ahead errors (method of moments), bounded to [0.5, 100].
- **Baseline** (the forecast hubs' baseline, Cramer et al. 2022): the last 7 days' mean carried forward; its
  intervals are the quantiles of its own past errors at the same horizon over the last 56 origins, taken
  symmetrically (each error and its negative), so the median stays the mean.
- **Ensemble**: the quantile average of the two (Vincentisation), as the COVID-19 Forecast Hub's ensemble.

Counts are integers >= 0 and the quantiles ordered. The scores (weighted interval score, coverage) are below; the
rolling-origin backtest over the real series is in ``backtest``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import rt

LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)  # lower_90, lower_50, median, upper_50, upper_90
FIELDS = ("lower_90", "lower_50", "median", "upper_50", "upper_90")
API_FIELDS = ("median", "lower_50", "upper_50", "lower_90", "upper_90")  # the order of /api/v1/forecast
HORIZON = 14
MODELS = ("ensemble", "renewal", "baseline")
MODEL_NAMES = {"ensemble": "组合模型", "renewal": "更新方程模型", "baseline": "基线（近7日均值延续）"}
SAMPLES = 2000
SEED = 20200120  # one seed: the same data give the same forecast
DISPERSION_DAYS, ERROR_ORIGINS = 28, 56
K_MIN, K_MAX = 0.5, 100.0
# The prior of R for projecting: mean 1, SD 0.5. EpiEstim's (mean 5, SD 5, used for the Rt shown on the page) is
# meant to be outweighed by data; for a projection from a week of one or two sporadic cases it would say R ~ 5 and
# compound that for 14 days (2020-04-20, 20 imported cases in a day: a median of 1.6 million in a week).
PRIOR_MEAN, PRIOR_SD = 1.0, 0.5
PRIOR_SHAPE, PRIOR_SCALE = (PRIOR_MEAN / PRIOR_SD) ** 2, PRIOR_SD**2 / PRIOR_MEAN
METHOD = (
    "预测（每日新增确诊，起报日之后1–14天，50%与90%预测区间），仅用起报日及以前的数据。"
    "更新方程模型：新增 ~ 负二项（均值 R × 感染力），感染力按计算Rt所用的序列间隔加权既往病例，"
    "R取自近7日R后验分布（Cori法；预测用先验均值1、标准差0.5）的随机抽样，沿每条路径不变；"
    "境外输入病例计入感染力而不计入本地传播，未来输入按近7日均值（泊松）加入；离散度按近28日一步预测误差估计。"
    "基线：近7日日均新增延续，区间取其近56个起报日同一预测天数误差的分位数（对称），同预测中心基线做法。"
    "组合模型：两者分位数平均。预测假定防控措施与报告方式不变，不含未来输入病例。"
)


def incidence(series: pd.Series) -> np.ndarray:
    """Daily counts for the models: missing days count 0."""
    return np.nan_to_num(np.asarray(series, float), nan=0.0).clip(min=0)


def renewal(
    counts: np.ndarray,
    horizon: int = HORIZON,
    imported: np.ndarray | None = None,
    samples: int = SAMPLES,
    seed: int = SEED,
) -> np.ndarray:
    """Quantiles (horizon x len(LEVELS)) of the renewal projection from ``counts`` (days up to the origin).

    ``imported``: the part of each day's count infected elsewhere (the province's 境外输入): as in EpiEstim they
    add to the infectivity but not to the cases R is estimated from; future imports are drawn around their last
    7 days' mean (Poisson) and added to the projected local cases."""
    rng = np.random.default_rng(seed)
    imported = np.zeros_like(counts) if imported is None else np.minimum(imported, counts)
    local = counts - imported
    si = rt.discrete_serial_interval()
    lam = rt.infectivity(counts, si)
    window = slice(-rt.WINDOW, None)
    shape = PRIOR_SHAPE + local[window].sum()
    scale = 1 / (1 / PRIOR_SCALE + lam[window].sum())
    r = rng.gamma(shape, scale, size=samples)
    k = dispersion(local[-DISPERSION_DAYS:], lam[-DISPERSION_DAYS:], shape * scale)
    back = len(si) - 1
    paths = np.zeros((samples, back + horizon))
    tail = counts[-back:]
    paths[:, back - len(tail) : back] = tail
    arrivals = rng.poisson(imported[-7:].mean() if len(imported) else 0.0, size=(samples, horizon))
    weights = si[1:][::-1]  # w_back .. w_1, against the days t-back .. t-1
    for h in range(horizon):
        if not paths[:, h : h + back].any() and not arrivals[:, h:].any():
            break  # no case left in any path's serial interval and none to come: every later day is 0 (as drawn)
        mean = r * (paths[:, h : h + back] @ weights)
        paths[:, back + h] = negative_binomial(rng, mean, k) + arrivals[:, h]
    return np.quantile(paths[:, back:], LEVELS, axis=0).T


def negative_binomial(rng: np.random.Generator, mean: np.ndarray, k: float) -> np.ndarray:
    """Draws with the given means and dispersion k (variance mean + mean^2 / k); a mean of 0 draws 0."""
    mean = np.clip(mean, 0, 1e7)
    return np.where(mean > 0, rng.negative_binomial(k, k / (k + np.where(mean > 0, mean, 1.0))), 0.0)


def dispersion(counts: np.ndarray, lam: np.ndarray, r: float) -> float:
    """k of a negative binomial by the method of moments from y against mean R x Lambda (Poisson-like: K_MAX)."""
    mean = r * lam
    used = mean > 0
    excess = float(((counts[used] - mean[used]) ** 2 - mean[used]).sum())
    if not used.any() or excess <= 0:
        return K_MAX
    return float(np.clip((mean[used] ** 2).sum() / excess, K_MIN, K_MAX))


def baseline(counts: np.ndarray, horizon: int = HORIZON) -> np.ndarray:
    """Quantiles (horizon x len(LEVELS)) of the last 7 days' mean carried forward, spread by its own past errors."""
    level = counts[-7:].mean() if len(counts) else 0.0
    means = pd.Series(counts).rolling(7, min_periods=1).mean().to_numpy()
    out = np.empty((horizon, len(LEVELS)))
    n = len(counts)
    if n - horizon - ERROR_ORIGINS >= 0:  # a full window of past errors at every horizon: one call for all of them
        h = np.arange(1, horizon + 1)[:, None]
        origins = np.arange(ERROR_ORIGINS)[None, :] + (n - h - ERROR_ORIGINS)
        errors = counts[origins + h] - means[origins]
        return level + np.quantile(np.concatenate([errors, -errors], axis=1), LEVELS, axis=1).T
    for h in range(1, horizon + 1):
        origins = np.arange(max(0, n - h - ERROR_ORIGINS), n - h)  # past origins whose day +h is known now
        errors = counts[origins + h] - means[origins]
        if len(errors) >= 7:
            spread = np.quantile(np.concatenate([errors, -errors]), LEVELS)
        else:  # too short a history for its own errors: Poisson-like spread around the level
            spread = np.sqrt(max(level, 1.0)) * np.array([-1.645, -0.674, 0.0, 0.674, 1.645])
        out[h - 1] = level + spread
    return out


def quantiles(counts: np.ndarray, horizon: int = HORIZON, imported: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every model's quantiles (horizon x FIELDS, integers >= 0, ordered) from the counts up to the origin."""
    raw = {"renewal": renewal(counts, horizon, imported), "baseline": baseline(counts, horizon)}
    raw["ensemble"] = (raw["renewal"] + raw["baseline"]) / 2
    # Rounding a monotone row keeps it monotone; the running maximum only guards against float noise.
    return {m: np.maximum.accumulate(np.round(raw[m].clip(min=0)), axis=1).astype(int) for m in MODELS}


def forecast(series: pd.Series, horizon: int = HORIZON, imported: pd.Series | None = None) -> dict[str, pd.DataFrame]:
    """Every model's forecast from a daily series ending on the origin day (index: dates): model -> frame indexed
    by the ``horizon`` days after the origin with FIELDS as integer columns. ``imported``: the imported part of
    each day's count, where known (only days up to the origin are read)."""
    origin = pd.Timestamp(series.index[-1])
    days = pd.date_range(origin + pd.Timedelta(days=1), periods=horizon, freq="D", name="date")
    arrived = None if imported is None else incidence(imported.reindex(series.index))
    made = quantiles(incidence(series), horizon, arrived)
    return {m: pd.DataFrame(q, index=days, columns=list(FIELDS)) for m, q in made.items()}


# Scores (Bracher et al., PLoS Comput Biol 2021): with intervals at alpha = 0.5 and 0.1 and the median,
# WIS = (|y - m| / 2 + sum_k alpha_k / 2 x IS_alpha_k) / (K + 1/2),
# IS_alpha = (u - l) + 2/alpha (l - y) 1[y < l] + 2/alpha (y - u) 1[y > u].
ALPHAS = {0.5: ("lower_50", "upper_50"), 0.1: ("lower_90", "upper_90")}


def interval_score(y, lower, upper, alpha: float):
    y, lower, upper = (np.asarray(v, float) for v in (y, lower, upper))
    return (upper - lower) + 2 / alpha * (lower - y) * (y < lower) + 2 / alpha * (y - upper) * (y > upper)


def wis(y, q: pd.DataFrame) -> np.ndarray:
    """Weighted interval score of each row of ``q`` (FIELDS columns) against the truth ``y``."""
    total = 0.5 * np.abs(np.asarray(y, float) - q["median"].to_numpy(float))
    for alpha, (lo, hi) in ALPHAS.items():
        total = total + alpha / 2 * interval_score(y, q[lo], q[hi], alpha)
    return total / (len(ALPHAS) + 0.5)


def covered(y, q: pd.DataFrame, width: int) -> np.ndarray:
    lo, hi = ALPHAS[0.5] if width == 50 else ALPHAS[0.1]
    y = np.asarray(y, float)
    return (q[lo].to_numpy() <= y) & (y <= q[hi].to_numpy())


def backtest(
    series: dict[str, pd.Series],
    origins: pd.DatetimeIndex,
    horizon: int = HORIZON,
    imported: dict[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """Rolling-origin forecasts scored against what happened: one row per region, origin, model and horizon day
    (region, origin, model, horizon, date, truth, FIELDS, wis, in_50, in_90). Only origins whose horizon days are
    all in the series are scored; every forecast sees only its origin's past."""
    parts = []
    for region, s in series.items():
        s = s.sort_index()
        s = s.reindex(pd.date_range(s.index[0], s.index[-1], freq="D"))
        counts = incidence(s)
        arrived = None
        if imported and imported.get(region) is not None:
            arrived = incidence(imported[region].reindex(s.index))
        for origin in origins:
            if origin < s.index[0] or origin + pd.Timedelta(days=horizon) > s.index[-1]:
                continue
            i = s.index.get_loc(origin) + 1
            made = quantiles(counts[:i], horizon, None if arrived is None else arrived[:i])
            truth = counts[i : i + horizon]
            for name, q in made.items():
                parts.append((region, origin, name, truth, q))
    if not parts:
        return pd.DataFrame()
    n = len(parts)
    q = np.concatenate([p[4] for p in parts])
    frame = pd.DataFrame(q, columns=list(FIELDS))
    frame.insert(0, "region", np.repeat([p[0] for p in parts], horizon))
    frame.insert(1, "origin", np.repeat([p[1] for p in parts], horizon))
    frame.insert(2, "model", np.repeat([p[2] for p in parts], horizon))
    frame.insert(3, "horizon", np.tile(np.arange(1, horizon + 1), n))
    frame.insert(4, "date", frame["origin"] + pd.to_timedelta(frame["horizon"], unit="D"))
    frame.insert(5, "truth", np.concatenate([p[3] for p in parts]))
    frame["wis"] = wis(frame["truth"], frame)
    frame["in_50"] = covered(frame["truth"], frame, 50)
    frame["in_90"] = covered(frame["truth"], frame, 90)
    return frame


def summarise(scores: pd.DataFrame, by=("model", "horizon")) -> pd.DataFrame:
    """Mean WIS, relative WIS (against the baseline on the same forecasts), 50 %/90 % coverage and counts."""
    by = list(by)
    table = (
        scores.groupby(by)
        .agg(
            wis=("wis", "mean"), coverage_50=("in_50", "mean"), coverage_90=("in_90", "mean"), forecasts=("wis", "size")
        )
        .reset_index()
    )
    keys = [c for c in by if c != "model"]
    baseline = table[table.model == "baseline"]
    if keys:
        table["relative_wis"] = (
            table["wis"] / table.set_index(keys).index.map(baseline.set_index(keys)["wis"]).to_numpy()
        )
    else:
        table["relative_wis"] = table["wis"] / baseline["wis"].iloc[0]
    return table
