"""Population flows: loaders, the national gazetteer, rankings against the source, the importation formula."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import importation
from data import mobility
from geo import china


@pytest.mark.parametrize(
    "query, adcode",
    [
        ("宝鸡", "610300"),
        ("恩施", "422800"),
        ("恩施州", "422800"),
        ("恩施土家族苗族自治州", "422800"),
        ("湘西州", "433100"),
        ("大兴安岭地区", "232700"),
        ("内蒙古", "150000"),
        ("广西", "450000"),
        ("北京", "110000"),
        ("武汉", "420100"),
        ("420100", "420100"),
    ],
)
def test_national_gazetteer(query, adcode):
    assert china.resolve(query).adcode == adcode


def test_national_gazetteer_says_when_a_name_means_two_places():
    found = china.resolve("吉林")
    assert found.status == "ambiguous" and {c for c, _ in found.candidates} == {"220000", "220200"}
    assert {c for c, _ in china.resolve("海南").candidates} == {"460000", "632500"}
    assert china.resolve("吉林", level="city").adcode == "220200"


def test_flow_files_load_whole_and_sane():
    flows = mobility.read_flows()
    raw = pd.read_csv(mobility.CITY_SHARES)
    assert (flows.counterpart_level == "city").sum() >= len(raw)
    assert flows.share_pct.between(0, 100).all()
    days = pd.to_datetime(flows[flows.focus_adcode == "610100"].date.unique())
    assert len(pd.date_range(days.min(), days.max()).difference(days)) == 0  # Xi'an: every day, no gaps
    province_days = pd.to_datetime(flows[flows.focus_adcode == "610000"].date.unique())
    missing = pd.date_range(province_days.min(), province_days.max()).difference(province_days)
    assert list(missing.strftime("%Y-%m-%d")) == ["2020-03-01"]  # the gap the source notes, reported, not filled
    scale = mobility.read_scale_index()
    assert len(scale) == 11 * 69 * 2 and (scale.scale_index > 0).all()
    national = mobility.read_national_cases()
    assert not national.duplicated(["as_of_date", "adcode"]).any() and national.adcode.nunique() == 366


def test_importation_risk_by_hand():
    days = pd.date_range("2020-01-20", periods=2)
    cases = pd.DataFrame(
        {
            "as_of_date": [days[0], days[0]],
            "adcode": ["420100", "110000"],
            "confirmed_cum": [1100, 20],
            "cured_cum": [50, 0],
            "dead_cum": [50, 0],
        }
    )
    population = pd.Series({"420100": 10_000_000, "110000": 20_000_000})
    incidence = importation.origin_incidence(cases, population, days)
    assert incidence.loc[days[1], "420100"] == pytest.approx(10.0)  # 1,000 active per 10 million, carried forward
    inflow = pd.DataFrame(
        {
            "date": [days[0]] * 3,
            "focus_adcode": ["610100"] * 3,
            "counterpart_adcode": ["420100", "110000", "610400"],
            "share_pct": [2.0, 5.0, 30.0],
        }
    )
    contrib = importation.contributions(inflow, incidence)
    # 0.02 x 10 + 0.05 x 0.1 + 0.30 x 0 (咸阳 has no reported case)
    assert importation.risk(contrib).loc[("610100", days[0])] == pytest.approx(0.2 + 0.005)


@pytest.fixture(scope="module")
def fq(app_module):
    from data import flow_queries

    return flow_queries


def test_xian_top_origins_on_january_20th_equal_the_source(client, fq):
    raw = pd.read_csv(mobility.CITY_SHARES, dtype={"counterpart_adcode": str})
    want = raw[(raw.date == "2020-01-20") & (raw.shaanxi_city == "西安市") & (raw.direction == "move_in")]
    want = want.sort_values("share_pct", ascending=False).head(10)
    got = client.get("/api/v1/flows?region=610100&date=2020-01-20&direction=in").get_json()[:10]
    assert [g["counterpart_name"] for g in got] == want.counterpart_city.tolist()
    assert [g["share_pct"] for g in got] == want.share_pct.tolist()
    scale = pd.read_csv(mobility.SCALE_INDEX)
    index = scale[(scale.date == "2020-01-20") & (scale.area_name == "西安市")].move_in_index.iloc[0]
    assert got[0]["index"] == pytest.approx(want.share_pct.iloc[0] / 100 * index, abs=1e-6)


def test_flows_api_errors(client):
    assert client.get("/api/v1/flows?region=610403&date=2020-01-20").status_code == 400  # no Baidu unit for 杨凌
    assert "date" in client.get("/api/v1/flows?region=610100&date=2020-06-01").get_json()["error"]
    assert "direction" in client.get("/api/v1/flows?region=610100&date=2020-01-20&direction=up").get_json()["error"]


def test_wuhan_dominates_xian_importation_risk_until_the_lockdown(fq):
    """What the data says (stated in the note): Wuhan is the largest contributor to Xi'an's importation risk
    from 1月17日 to 1月24日; after the 1月23日 lockdown it drops out of Xi'an's top-100 origins."""
    for day in pd.date_range("2020-01-17", "2020-01-24"):
        assert fq.top_contributors("610100", day, 1).counterpart_name.iloc[0] == "武汉市", day
    assert "武汉市" not in set(fq.top_contributors("610100", "2020-01-30", 100).counterpart_name)


def test_flow_views_follow_the_region(fq):
    import callbacks.flows as cbf
    import views.flows as flow_views

    fig, rows, title, note = flow_views.flow_view("610100", "2020-01-20", "in", "national", "city", None)
    assert title.startswith("西安市") and rows
    fig2, _, title2, _ = flow_views.flow_view("610700", "2020-01-20", "in", "national", "city", None)
    assert title2.startswith("汉中市") and fig2["data"][-1]["name"] == "汉中市"
    _, _, _, note = flow_views.flow_view("610403", "2020-01-20", "in", "national", "city", None)
    assert "不单列" in note
    fig3, _, _, _ = flow_views.flow_view("610100", "2020-01-20", "in", "national", "city", "110000")
    assert fig3["data"][-1]["line"]["color"] == "#1f3a93"  # the clicked origin is highlighted
    assert (
        cbf.picked_origin(
            "flow-chart", {"points": [{"customdata": ["420100", "武汉市 → 西安市", 0.45, "0.02"]}]}, [], None
        )
        == "420100"
    )
    province = fq.ranking("610300", "2020-01-20", level="province")
    assert province.aggregated.all() and province.share_pct.iloc[0] > 40  # 宝鸡: most arrivals from inside Shaanxi
