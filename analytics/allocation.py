"""What to move where: mask transfers from counties above a safe stock level to counties below it, at the least
transport distance. Pure: frames in, frames out (no Dash, no store); ``data.resources.mask_transfers`` feeds it the
adequacy table of a day and scope.

Safe level. One level for donors and recipients: SAFE_DAYS days of use, the adequacy table's mask flag
(analytics.adequacy.THRESHOLDS["stock_days"], 口罩可用天数 < 7 天). No other level is documented in the project: a
county flagged there is a recipient, and a donor never gives so much that it would be flagged itself. Use per day is
the adequacy table's ``mask_use_per_day`` (an assumed rate until pharmacy sales data exist).

- need of a recipient  = safe_days x use - stock, rounded UP to whole masks (met in full, it reaches the level)
- surplus of a donor   = stock - safe_days x use, rounded DOWN to whole masks (whatever it gives, it keeps the level)

Transfers. A balanced transportation problem solved by HiGHS through ``scipy.optimize.linprog`` (integer
variables; the problem is totally unimodular, so this is its LP optimum in whole masks): minimise the sum of
distance_km x masks over donor -> recipient pairs. When the surplus is short of the need, a dummy donor at distance 0
supplies the difference: every real mask available is moved (as much need as possible is met first), and the dummy's
share of each recipient is its unmet need. When the surplus exceeds the need, a dummy recipient takes what stays
where it is. The solver's values are rounded down (``floor(x + 1e-6)``), so a float just under a whole mask never
takes a donor below its level; the sums are checked against each surplus and need. With a shortage, the unmet need
falls on the recipients that are costliest to reach: the optimum minimises distance, it does not share the shortage
out evenly.

Distance. Great-circle (haversine, R = 6,371.0088 km) between county centroids (the area centroid of each county's
polygon, computed in EPSG:4545 by ``data.resources.county_centroids``): a straight line, not a road network, which the
project does not have. The page says 直线距离（县区中心点之间），未用路网.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

from analytics.adequacy import THRESHOLDS

SAFE_DAYS = float(THRESHOLDS["stock_days"][1])  # 7.0: the adequacy flag's mask-days threshold
EARTH_RADIUS_KM = 6371.0088  # mean radius of the GRS80 / CGCS2000 ellipsoid
DISTANCE_BASIS = "直线距离（县区中心点之间），未用路网"
DISTANCE_NOTE = f"距离为{DISTANCE_BASIS}"
ROUNDING_NOTE = "需求量向上取整、可调出量向下取整，调出后各县区仍不低于安全库存"
TRANSFER_COLUMNS = ["from_adcode", "from_name", "to_adcode", "to_name", "masks", "distance_km"]
COUNTY_COLUMNS = [
    "name",
    "stock",
    "use_per_day",
    "safe_stock",
    "need",
    "received",
    "unmet",
    "surplus",
    "given",
    "stock_after",
    "days_after",
]


@dataclass(frozen=True)
class Suggestion:
    transfers: pd.DataFrame  # TRANSFER_COLUMNS, most masks first
    counties: pd.DataFrame  # index adcode: COUNTY_COLUMNS
    safe_days: float
    demo: bool = False  # made from demo facilities (the data layer says so; shown as 演示数据)

    @property
    def masks_moved(self) -> int:
        return int(self.transfers["masks"].sum())

    @property
    def mask_km(self) -> float:
        return float((self.transfers["masks"] * self.transfers["distance_km"]).sum())

    @property
    def need(self) -> int:
        return int(self.counties["need"].sum())

    @property
    def unmet(self) -> int:
        return int(self.counties["unmet"].sum())

    @property
    def recipients(self) -> pd.DataFrame:
        return self.counties[self.counties["need"] > 0]

    @property
    def donors(self) -> pd.DataFrame:
        return self.counties[self.counties["given"] > 0]


def great_circle_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Haversine distance in km between points given in degrees (arrays broadcast)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def balances(counties: pd.DataFrame, safe_days: float = SAFE_DAYS) -> pd.DataFrame:
    """Need and surplus per county in whole masks. ``counties``: index adcode; name, stock, use_per_day."""
    stock = pd.to_numeric(counties["stock"], errors="coerce").fillna(0.0).astype(float)
    use = pd.to_numeric(counties["use_per_day"], errors="coerce").fillna(0.0).astype(float)
    safe = safe_days * use
    gap = safe - stock
    # 1e-9: 700.0000000001 masks of need is 700, not 701 (float noise in safe_days x use)
    need = np.where(gap > 1e-9, np.ceil(gap - 1e-9), 0).astype(np.int64)
    surplus = np.where(-gap > 1e-9, np.floor(-gap + 1e-9), 0).astype(np.int64)
    return pd.DataFrame(
        {
            "name": counties["name"],
            "stock": stock,
            "use_per_day": use,
            "safe_stock": safe,
            "need": need,
            "surplus": surplus,
        },
        index=counties.index,
    )


def transport(supply: np.ndarray, demand: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Whole-mask flows (donors x recipients) moving min(sum supply, sum demand) at the least total cost.
    A balanced transportation problem (a zero-cost dummy row or column takes the difference) solved by HiGHS."""
    supply, demand = np.asarray(supply, dtype=float), np.asarray(demand, dtype=float)
    n_from, n_to = len(supply), len(demand)
    if not n_from or not n_to or supply.sum() <= 0 or demand.sum() <= 0:
        return np.zeros((n_from, n_to), dtype=np.int64)
    extra = supply.sum() - demand.sum()
    cost = np.asarray(cost, dtype=float)
    if extra > 0:  # a dummy recipient: what stays with the donors
        demand, cost = np.append(demand, extra), np.hstack([cost, np.zeros((n_from, 1))])
    elif extra < 0:  # a dummy donor: the unmet need
        supply, cost = np.append(supply, -extra), np.vstack([cost, np.zeros((1, n_to))])
    rows, cols = cost.shape
    # x[i, j] flattened row-major: row i's sum is one block, column j's sum every cols-th variable
    supply_rows = sparse.kron(sparse.eye(rows), np.ones((1, cols)))
    demand_rows = sparse.kron(np.ones((1, rows)), sparse.eye(cols))
    result = linprog(
        cost.ravel(),
        A_eq=sparse.vstack([supply_rows, demand_rows]).tocsr(),
        b_eq=np.concatenate([supply, demand]),
        bounds=(0, None),
        method="highs",
        integrality=np.ones(rows * cols),
    )
    if result.status != 0:
        raise RuntimeError(f"口罩调配求解失败：{result.message}")
    flows = np.floor(result.x.reshape(rows, cols) + 1e-6).astype(np.int64)[:n_from, :n_to]
    return flows


def suggest(counties: pd.DataFrame, safe_days: float = SAFE_DAYS) -> Suggestion:
    """Transfers for counties (index adcode; name, stock, use_per_day, lon, lat: centroid in degrees)."""
    table = balances(counties, safe_days)
    donors = table[table["surplus"] > 0]
    recipients = table[table["need"] > 0]
    frm = counties.loc[donors.index]
    to = counties.loc[recipients.index]
    distance = great_circle_km(
        frm["lon"].to_numpy()[:, None],
        frm["lat"].to_numpy()[:, None],
        to["lon"].to_numpy()[None, :],
        to["lat"].to_numpy()[None, :],
    )
    flows = transport(donors["surplus"].to_numpy(), recipients["need"].to_numpy(), distance)
    given, received = flows.sum(axis=1), flows.sum(axis=0)
    if (given > donors["surplus"].to_numpy()).any() or (received > recipients["need"].to_numpy()).any():
        raise RuntimeError("口罩调配结果超出可调出量或需求量")  # cannot happen with a correct solver; never shown wrong
    i, j = np.nonzero(flows)
    transfers = pd.DataFrame(
        {
            "from_adcode": donors.index[i].astype(str),
            "from_name": donors["name"].to_numpy()[i],
            "to_adcode": recipients.index[j].astype(str),
            "to_name": recipients["name"].to_numpy()[j],
            "masks": flows[i, j].astype(np.int64),
            "distance_km": distance[i, j].astype(float),
        },
        columns=TRANSFER_COLUMNS,
    )
    transfers = transfers.sort_values(
        ["masks", "from_adcode", "to_adcode"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    out = table.copy()
    out["received"] = pd.Series(received, index=recipients.index).reindex(out.index).fillna(0).astype(np.int64)
    out["given"] = pd.Series(given, index=donors.index).reindex(out.index).fillna(0).astype(np.int64)
    out["unmet"] = out["need"] - out["received"]
    out["stock_after"] = out["stock"] + out["received"] - out["given"]
    out["days_after"] = out["stock_after"] / out["use_per_day"].replace(0, np.nan)
    return Suggestion(transfers, out[COUNTY_COLUMNS], float(safe_days))


def summary_text(s: Suggestion, scope_name: str) -> str:
    """One sentence: how many transfers, masks moved, mask·km, and the need left unmet."""
    days = f"{s.safe_days:g}"
    recipients = s.recipients
    if recipients.empty:
        return f"{scope_name}各县（区）口罩可用天数均不低于{days}天，无需调配。"
    head = f"{scope_name}有{len(recipients)}个县（区）口罩可用天数低于{days}天，补足到{days}天共需{s.need:,}只"
    if s.transfers.empty:
        return f"{head}；范围内没有高于安全库存的县（区）可调出，缺口{s.unmet:,}只未能满足。"
    mean_km = s.mask_km / s.masks_moved
    text = (
        f"{head}。建议调拨{len(s.transfers)}笔，从{len(s.donors)}个县（区）共调出口罩{s.masks_moved:,}只，"
        f"总运量{math.floor(s.mask_km):,}只·公里（平均每只{mean_km:.1f}公里）"
    )
    if s.unmet:
        short = recipients[recipients["unmet"] > 0]
        text += f"；可调出量不足，仍缺{s.unmet:,}只（{'、'.join(short['name'])}）"
    else:
        text += "，缺口全部补足"
    return text + f"；调出后各调出县（区）口罩可用天数仍不低于{days}天。"
