"""Time-varying reproduction number Rt by the method of Cori et al. (2013).

Cori A, Ferguson NM, Fraser C, Cauchemez S. A new framework and software to estimate time-varying reproduction
numbers during epidemics. Am J Epidemiol 2013;178(9):1505-12. (The method of the R package EpiEstim.)

For a window of ``tau`` days ending on day t, with incidence I and serial-interval weights w (w_0 = 0):

    Lambda_s = sum_{k>=1} I_s-k * w_k                  (infectivity-weighted past incidence)
    Rt | data ~ Gamma(shape = a + sum_{s in window} I_s,  scale = 1 / (1/b + sum_{s in window} Lambda_s))

with a Gamma(a, b) prior (shape a, scale b). The prior here has mean 5 and standard deviation 5 (a = 1, b = 5),
as in EpiEstim. The point estimate is the posterior mean, the band its 2.5 % and 97.5 % quantiles. No estimate
is made where the window holds fewer than ``MIN_CASES`` cases (Cori et al. advise a posterior coefficient of
variation below 0.3, which needs about a dozen cases).

Serial interval: gamma with mean 4.7 days and SD 2.9 days (Nishiura H, Linton NM, Akhmetzhanov AR. Serial interval
of novel coronavirus (COVID-19) infections. Int J Infect Dis 2020;93:284-6), discretised as EpiEstim's
``discr_si`` does (Cori et al. 2013, Web Appendix 11: a gamma offset by one day, so w_0 = 0).

Caveat: the incidence used is cases by report date, not by onset, so Rt lags infections by the reporting delay.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy.special import gammainc, gammaincinv  # scipy.stats' gamma.cdf is gammainc; scipy.stats takes 0.6 s to import

SI_MEAN, SI_SD = 4.7, 2.9
SI_SOURCE = "序列间隔：伽马分布，均值4.7天、标准差2.9天（Nishiura 等，2020）"
PRIOR_MEAN, PRIOR_SD = 5.0, 5.0
WINDOW = 7
MIN_CASES = 12


def discrete_serial_interval(mean: float = SI_MEAN, sd: float = SI_SD, max_days: int = 30) -> np.ndarray:
    """EpiEstim's ``discr_si``: weights w_0..w_max of a gamma(mean - 1, sd) offset by one day; w_0 = 0, sum 1."""
    return _serial_interval(mean, sd, max_days).copy()


@functools.lru_cache(maxsize=8)
def _serial_interval(mean: float, sd: float, max_days: int) -> np.ndarray:  # the same weights for every region
    k = np.arange(max_days + 1, dtype=float)
    a = ((mean - 1) / sd) ** 2
    b = sd**2 / (mean - 1)

    def cdf(x, shape):
        return gammainc(shape, np.clip(x, 0, None) / b)

    w = k * cdf(k, a) + (k - 2) * cdf(k - 2, a) - 2 * (k - 1) * cdf(k - 1, a)
    w += a * b * (2 * cdf(k - 1, a + 1) - cdf(k - 2, a + 1) - cdf(k, a + 1))
    w = np.clip(w, 0, None)
    w[0] = 0.0
    return w / w.sum()


def infectivity(incidence: np.ndarray, si: np.ndarray) -> np.ndarray:
    """Lambda_t = sum_{k>=1} I_{t-k} w_k (w_0 is 0, so day t's own cases do not count)."""
    padded = np.concatenate([np.zeros(len(si) - 1), np.asarray(incidence, float)])
    return np.convolve(padded, si, mode="valid")


def cori(
    local: pd.Series,
    imported: pd.Series | None = None,
    si: np.ndarray | None = None,
    window: int = WINDOW,
    prior_mean: float = PRIOR_MEAN,
    prior_sd: float = PRIOR_SD,
    min_cases: int = MIN_CASES,
) -> pd.DataFrame:
    """Rt for each day's window ending that day.

    ``local``: daily local cases (>= 0); ``imported``: daily imported cases, which infect others but were not
    infected locally (they enter Lambda, not the numerator), as in EpiEstim.
    Returns columns: rt (posterior mean), rt_low, rt_high (95 % credible interval), rt_shape, rt_scale,
    rt_cases (cases in the window). Days with fewer than ``min_cases`` in the window, or no infectivity, are NaN.
    """
    si = discrete_serial_interval() if si is None else np.asarray(si, float)
    local = local.fillna(0).astype(float)
    total = local + (imported.reindex(local.index).fillna(0) if imported is not None else 0)
    lam = pd.Series(infectivity(total.to_numpy(), si), index=local.index)
    a_prior = (prior_mean / prior_sd) ** 2
    b_prior = prior_sd**2 / prior_mean
    cases = local.rolling(window).sum()
    lam_sum = lam.rolling(window).sum()
    shape = a_prior + cases
    scale = 1 / (1 / b_prior + lam_sum)
    ok = (cases >= min_cases) & (lam_sum > 0)
    out = pd.DataFrame(
        {
            "rt": (shape * scale).where(ok),
            "rt_low": pd.Series(gammaincinv(shape, 0.025) * scale, index=local.index).where(ok),
            "rt_high": pd.Series(gammaincinv(shape, 0.975) * scale, index=local.index).where(ok),
            "rt_shape": shape.where(ok),
            "rt_scale": scale.where(ok),
            "rt_cases": cases,
        }
    )
    return out
