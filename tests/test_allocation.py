"""口罩调配建议: mask transfers from counties above the safe stock (7 days of use) to counties below it, at the least
mask·km. Small cases solved by hand on one meridian (1° of latitude = EARTH_RADIUS_KM x pi / 180 = 111.195 km), then
the shipped data through the data layer, the page's callback and its download."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest

from analytics import allocation as al
from data import resources
from data.resources import adequacy
from geo import regions

DEG_KM = al.EARTH_RADIUS_KM * math.pi / 180  # 111.195 km: one degree of latitude on the haversine sphere


def _counties(rows) -> pd.DataFrame:
    """rows: (adcode, name, stock, use per day, latitude), all on the 108°E meridian."""
    return pd.DataFrame(
        [{"adcode": a, "name": n, "stock": s, "use_per_day": u, "lon": 108.0, "lat": lat} for a, n, s, u, lat in rows]
    ).set_index("adcode")


# Y at 34.0°N, A at 35.1°N, X at 36.0°N, B at 37.0°N. A–Y 1.1°, A–X 0.9°, B–X 1.0°, B–Y 3.0°. 100 masks a day each,
# so the safe stock is 700: A and B hold 800 (100 to spare each), X and Y 600 (100 short each).
HAND = [
    ("610001", "Y县", 600, 100, 34.0),
    ("610002", "A县", 800, 100, 35.1),
    ("610003", "X县", 600, 100, 36.0),
    ("610004", "B县", 800, 100, 37.0),
]


def _moves(s: al.Suggestion) -> dict:
    return {(t.from_name, t.to_name): int(t.masks) for t in s.transfers.itertuples()}


def test_two_donors_two_recipients_solved_by_hand():
    """Nearest-first would send A's 100 to X (0.9°, the shortest pair) and then B's to Y (3.0°): 390 mask-degrees.
    The optimum sends A to Y and B to X: 100 x 1.1 + 100 x 1.0 = 210 mask-degrees."""
    s = al.suggest(_counties(HAND))
    assert _moves(s) == {("A县", "Y县"): 100, ("B县", "X县"): 100}
    assert s.mask_km == pytest.approx(210 * DEG_KM, rel=1e-9)
    assert s.transfers.set_index("to_name").loc["Y县", "distance_km"] == pytest.approx(1.1 * DEG_KM, rel=1e-9)
    c = s.counties.set_index("name")
    assert list(c.loc[["X县", "Y县"], "unmet"]) == [0, 0] and s.unmet == 0  # every need met
    assert list(c["stock_after"]) == [700, 700, 700, 700]  # donors keep exactly their safe level, recipients reach it
    assert (c["days_after"] >= al.SAFE_DAYS).all()
    assert s.masks_moved == 200 and s.need == 200
    text = al.summary_text(s, "测试市")
    assert "建议调拨2笔" in text and "共调出口罩200只" in text and "缺口全部补足" in text


def test_shortage_moves_every_spare_mask_and_reports_the_rest():
    """A has only 50 to spare: 150 masks for 200 of need. All 150 move; B's 100 go to X (1.0°) and A's 50 to Y
    (1.1°): 155 mask-degrees, the cheapest way to move 150. Y is left 50 short, and it says so."""
    rows = [r if r[1] != "A县" else ("610002", "A县", 750, 100, 35.1) for r in HAND]
    s = al.suggest(_counties(rows))
    assert _moves(s) == {("B县", "X县"): 100, ("A县", "Y县"): 50}
    assert s.masks_moved == 150 and s.unmet == 50
    assert s.mask_km == pytest.approx(155 * DEG_KM, rel=1e-9)
    c = s.counties.set_index("name")
    assert c.loc["Y县", "unmet"] == 50 and c.loc["X县", "unmet"] == 0
    assert c.loc["A县", "stock_after"] == 700 and c.loc["B县", "stock_after"] == 700  # never below the safe level
    text = al.summary_text(s, "测试市")
    assert "仍缺50只（Y县）" in text and "共调出口罩150只" in text


def test_no_donor_at_all_leaves_the_whole_need_unmet():
    s = al.suggest(_counties([("610001", "Y县", 600, 100, 34.0), ("610003", "X县", 690, 100, 36.0)]))
    assert s.transfers.empty and s.unmet == 110 and s.need == 110
    assert "缺口110只未能满足" in al.summary_text(s, "测试市")


def test_no_need_gives_no_transfers():
    s = al.suggest(_counties([("610001", "Y县", 700, 100, 34.0), ("610002", "A县", 900, 100, 35.1)]))
    assert s.transfers.empty and s.masks_moved == 0 and s.need == 0
    assert list(s.counties["stock_after"]) == [700, 900]
    assert al.summary_text(s, "测试市") == "测试市各县（区）口罩可用天数均不低于7天，无需调配。"


def test_fractional_use_rounds_need_up_and_surplus_down():
    """7.3 masks a day: the safe stock is 51.1. 40 in stock needs 12 (11.1 up), 100 in stock spares 48 (48.9 down):
    after the transfer the donor holds 88 >= 51.1 and the recipient 52 >= 51.1."""
    s = al.suggest(_counties([("610001", "Y县", 40, 7.3, 34.0), ("610002", "A县", 100, 7.3, 34.5)]))
    assert _moves(s) == {("A县", "Y县"): 12}
    c = s.counties.set_index("name")
    assert (c["need"].to_dict(), c["surplus"].to_dict()) == ({"Y县": 12, "A县": 0}, {"Y县": 0, "A县": 48})
    assert (c["stock_after"] >= 7 * 7.3).all() and c.loc["Y县", "stock_after"] == 52


# ---- the shipped data --------------------------------------------------------------------------------------------
def _check_invariants(s: al.Suggestion, adequacy: pd.DataFrame) -> None:
    c = s.counties
    safe = al.SAFE_DAYS * adequacy["mask_use_per_day"]
    after = adequacy["mask_stock"] + c["received"] - c["given"]
    donors, recipients = set(s.transfers["from_adcode"]), set(s.transfers["to_adcode"])
    assert (after[list(donors)] >= safe[list(donors)] - 1e-9).all()  # every donor keeps its safe level
    assert (adequacy.loc[list(donors), "stock_days"] > al.SAFE_DAYS).all()  # masks come from counties with surplus
    assert (adequacy.loc[list(recipients), "stock_days"] < al.SAFE_DAYS).all()  # ... and go to flagged ones
    assert not donors & recipients
    assert (c["received"] <= c["need"]).all() and (c["received"] + c["unmet"] == c["need"]).all()
    assert (s.transfers["masks"] > 0).all() and (s.transfers["masks"] % 1 == 0).all()


def test_shipped_data_province_and_units(app_module):
    table = adequacy("2020-02-15", "county")
    s = resources.mask_transfers("2020-02-15")
    assert len(s.counties) == 107 and s.demo
    _check_invariants(s, table)
    flagged = table.index[table["stock_days"] < al.SAFE_DAYS]
    assert set(s.recipients.index) == set(flagged)  # every county the adequacy table flags for masks, no other
    assert s.unmet == 0 and s.masks_moved == s.need > 0  # the province has masks to spare: every gap closed
    assert s.transfers["distance_km"].max() < 150  # the nearest surplus, not across the province
    for unit in regions.units():
        part = resources.mask_transfers("2020-02-15", unit.adcode)
        members = {c.adcode for c in regions.counties(unit.adcode)}
        assert set(part.counties.index) == members
        assert set(part.transfers["from_adcode"]) | set(part.transfers["to_adcode"]) <= members  # within the unit
        _check_invariants(part, adequacy("2020-02-15", "county", unit.adcode))
    hancheng = resources.mask_transfers("2020-02-15", "610581")  # a unit of one county, below 7 days: no donor
    assert hancheng.transfers.empty and hancheng.unmet == hancheng.need > 0


def test_card_download_and_map_say_what_a_user_needs(app_module):
    import views.resources as panel

    view = panel.allocation_view("610100", "2020-02-15")  # a county of 西安 is chosen in the scope of its unit
    s = resources.mask_transfers("2020-02-15", "610100")
    assert view["title"] == "口罩调配建议 · 西安市（13个县区） · 2月15日（演示数据）" and view["demo"]
    assert view["summary"].startswith("西安市有") and f"建议调拨{len(s.transfers)}笔" in view["summary"]
    assert view["rows"][0] == (
        "新城区",
        "碑林区",
        f"{int(s.transfers['masks'].iloc[0]):,}",
        f"{s.transfers['distance_km'].iloc[0]:.1f}",
    )
    moves = next(t for t in view["figure"]["data"] if t.get("meta"))
    assert moves["meta"]["columns"] == ["调出县区", "调入县区", "口罩数量（只）", "直线距离（公里）"]
    assert len(moves["customdata"]) == len(s.transfers)  # the table alternative lists every transfer
    lines = next(t for t in view["figure"]["data"] if t["mode"] == "lines")
    assert lines["lon"].count(None) == 2 * len(s.transfers)  # a line and an arrowhead per transfer

    table = panel.allocation_download_table("610000", "2020-02-15")
    csv = pd.read_csv(io.StringIO(panel.tables.to_csv(table).lstrip("\ufeff")), dtype=str)
    assert list(csv.columns[:4]) == ["截至日期", "调配范围", "类型", "调出县区代码"]
    assert (csv["演示数据"] == "是").all() and (csv["距离说明"] == "直线距离（县区中心点之间），未用路网").all()
    assert csv["口罩数量（只）"].astype(int).sum() == resources.mask_transfers("2020-02-15").masks_moved
    short = panel.allocation_download_table("610581", "2020-02-15")
    assert list(short["类型"]) == ["缺口（无可调出量）"] and short["调入县区"].iloc[0] == "韩城市"
    assert "选择“陕西省（全省）”可在全省范围内调配" in panel.allocation_view("610581", "2020-02-15")["summary"]
