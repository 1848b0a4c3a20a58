"""Small-count suppression of county figures for everything public (the anonymous API, the open-data package).

Rules (docs/data.md, 分级分类):
- A county's daily new count of 1 or 2 is shown as ``<3`` (``small_count``): a count that small, with a county and a
  day, can point at a person.
- Complementary suppression: the unit (city) total is published exactly, so within each unit and day the hidden
  cells must not be recoverable as "unit total minus the visible counties". The smallest non-zero county cells
  are hidden too (``complementary``) until the hidden cells' sum no longer determines any small cell (see
  ``protected``); where no choice of non-zero cells does that, every reporting county of the unit that day is
  hidden.
- Public county data carries no cumulative counts and nothing derived from them (active, 7-day sums, rates, Rt):
  their day-to-day differences would give a hidden daily count back. Units and the province stay exact; so does
  everything for internal clearance (signed-in staff).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data import queries, store
from geo import regions

SMALL_MAX = 2  # counts 1..SMALL_MAX are suppressed
SHOWN = "<3"
SMALL, COMPLEMENTARY = "small_count", "complementary"
# county summary fields that stay public (new_confirmed only where not suppressed); every other count goes
PUBLIC_COUNTY_FIELDS = (
    "adcode",
    "name",
    "level",
    "date",
    "new_confirmed",
    "population",
    "risk_level",
    "status",
    "basis",
    "data_as_of",
    "sources",
    "suppression",
)


def protected(n_small: int, hidden_sum: float, n_other: int) -> bool:
    """Whether each of ``n_small`` hidden small cells (each 1 or 2) could be 1 and could be 2, for someone who
    knows the hidden cells' sum (unit total minus visible counties) and that each of the ``n_other`` hidden
    non-zero cells is at least 3. The rest of the hidden cells then sum to S-1 or S-2, and they can reach
    [m-1, 2m-2] with no other cells, or [m-1+3k, inf) with k >= 1 of them."""
    if n_small == 0:
        return True
    low = n_small - 1 + 3 * n_other
    high = 2 * n_small - 2 if n_other == 0 else float("inf")
    return all(low <= hidden_sum - v <= high for v in (1, 2))


def suppress(values: pd.DataFrame) -> pd.DataFrame:
    """Marks for a grid of daily new counts (rows: days, columns: the counties of one unit; NaN: not reported):
    '' (shown), ``small_count`` or ``complementary``."""
    v = values.to_numpy(dtype="float64")
    marks = np.full(v.shape, "", dtype=object)
    small = (v >= 1) & (v <= SMALL_MAX)
    marks[small] = SMALL
    columns = list(values.columns)
    for i in np.flatnonzero(small.any(axis=1)):
        row = v[i]
        m = int(small[i].sum())
        total = float(row[small[i]].sum())
        candidates = sorted(
            (j for j in range(len(row)) if not small[i, j] and row[j] > 0), key=lambda j: (row[j], columns[j])
        )
        k = 0
        for j in candidates:
            if protected(m, total, k):
                break
            marks[i, j] = COMPLEMENTARY
            total += row[j]
            k += 1
        if not protected(m, total, k):  # no choice of non-zero cells protects: hide the whole breakdown that day
            for j in range(len(row)):
                if not small[i, j] and not np.isnan(row[j]):
                    marks[i, j] = COMPLEMENTARY
    return pd.DataFrame(marks, index=values.index, columns=values.columns)


def _build(eng, version: str) -> pd.Series:
    """The mark of every (county adcode, date) with a suppressed daily count, for the store's data version."""
    data = queries.case_data(eng)
    if data.daily.empty:
        return pd.Series(dtype=object)
    have = set(data.daily.index.get_level_values(0))
    parts = []
    for unit in regions.units():
        codes = [c.adcode for c in regions.counties(unit.adcode) if c.adcode in have]
        if not codes:
            continue
        grid = data.daily.loc[codes, "new_confirmed"].unstack(level=0)
        marks = suppress(grid).stack()
        parts.append(marks[marks != ""])
    if not parts:
        return pd.Series(dtype=object)
    out = pd.concat(parts)
    out.index = out.index.set_names(["date", "adcode"]).swaplevel()
    return out.sort_index()


county_marks = store.per_version(_build)


def mark(adcode: str, day, eng=None) -> str | None:
    marks = county_marks(eng)
    return marks.get((adcode, pd.Timestamp(day))) if len(marks) else None


def public_county(row: dict, eng=None) -> dict:
    """A county's summary row as the public may see it: no cumulative or derived counts, the daily count
    suppressed where it is marked."""
    out = {k: (v if k in PUBLIC_COUNTY_FIELDS else None) for k, v in row.items()}
    flag = mark(row["adcode"], row["date"], eng)
    out["suppression"] = flag
    if flag:
        out["new_confirmed"] = None
    return out


def shown(value, flag: str | None) -> str:
    """The count as a public table shows it: ``<3`` where suppressed."""
    if flag:
        return SHOWN
    return "" if value is None or pd.isna(value) else str(int(value))
