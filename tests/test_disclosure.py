"""分级分类: small-count suppression (arithmetic by hand and by brute force), what public and internal callers of
the API see, and a scan of every route, page, callback and export for planted personal data."""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from conftest import PLANTED, planted_case_list

import security
from data import catalogue, disclosure
from data.catalogue import INTERNAL, PUBLIC
from data.ingest import pipeline

NAN = float("nan")


def _marks(grid: dict) -> dict:
    frame = pd.DataFrame({k: [v] for k, v in grid.items()})
    return {k: v for k, v in disclosure.suppress(frame).iloc[0].items() if v}


# ---- the arithmetic ----------------------------------------------------------------------------------------------
def test_one_small_cell_gets_the_next_smallest_non_zero_county_as_complement():
    # unit total 13: hiding only A=1 would give it back as 13 - (5 + 7 + 0)
    assert _marks({"A": 1, "B": 5, "C": 7, "D": 0}) == {"A": "small_count", "B": "complementary"}
    # visible C + D = 7, hidden A + B = 6: A=1,B=5 or A=2,B=4 both fit, so A stays unknown


def test_a_complement_of_3_next_to_a_1_is_not_enough():
    # A=1 and B=3 hidden sum to 4, and a hidden non-zero cell is at least 3: only A=1 fits. C is hidden too.
    assert _marks({"A": 1, "B": 3, "C": 4, "D": 9}) == {"A": "small_count", "B": "complementary", "C": "complementary"}


def test_two_small_cells_that_sum_to_2_or_4_need_a_complement_and_1_plus_2_does_not():
    assert _marks({"A": 1, "B": 1, "C": 10, "D": 20}) == {"A": "small_count", "B": "small_count", "C": "complementary"}
    assert _marks({"A": 2, "B": 2, "C": 10}) == {"A": "small_count", "B": "small_count", "C": "complementary"}
    assert _marks({"A": 1, "B": 2, "C": 10}) == {"A": "small_count", "B": "small_count"}


def test_without_a_non_zero_county_to_hide_the_whole_breakdown_is_hidden_but_not_unreported_ones():
    assert _marks({"A": 2, "B": 0, "C": 0, "D": NAN}) == {
        "A": "small_count",
        "B": "complementary",
        "C": "complementary",
    }


def test_nothing_small_nothing_hidden():
    assert _marks({"A": 0, "B": 3, "C": 40, "D": NAN}) == {}


@pytest.mark.parametrize("m, k", list(itertools.product(range(1, 4), range(0, 3))))
def test_protection_rule_matches_brute_force(m, k):
    """protected(m, S, k) says exactly whether the first small cell could be both 1 and 2, for someone who knows
    the hidden sum S, that small cells are 1..2 and that hidden non-zero complements are >= 3."""
    for total in range(0, 25):
        others = [range(1, 3)] * (m - 1) + [range(3, total + 1)] * k
        reach = {sum(c) for c in itertools.product(*others)} if others else {0}
        assert disclosure.protected(m, total, k) == ((total - 1) in reach and (total - 2) in reach), (m, k, total)


def test_random_grids_leave_every_small_cell_ambiguous():
    rng = np.random.default_rng(8)
    for _ in range(300):
        values = rng.choice([0, 0, 1, 2, 3, 4, 5, 9, 30], size=(1, 6)).astype(float)
        marks = disclosure.suppress(pd.DataFrame(values)).iloc[0].to_numpy()
        small = (values[0] >= 1) & (values[0] <= 2)
        assert all(marks[small] == "small_count")
        hidden_other = marks == "complementary"
        if small.any() and values[0][hidden_other].min(initial=np.inf) > 0:  # no fallback to zeros
            assert disclosure.protected(
                int(small.sum()), values[0][small | hidden_other].sum(), int(hidden_other.sum())
            )


# ---- planted data: the API by clearance, then the scan ---------------------------------------------------------
@pytest.fixture(scope="module")
def planted(app_module):
    """The planted case list stored in the session's store; rolled back afterwards so other tests see the
    shipped data only."""
    report = pipeline.ingest(planted_case_list(), "病例个案_商洛.csv", "case-list", user="test")
    assert report.batch_id and report.accepted == 22 and report.rejected == 2
    yield report
    pipeline.rollback(report.batch_id, user="test")


@pytest.fixture()
def as_level(monkeypatch):
    import api.v1

    def set_level(level):
        monkeypatch.setattr(security, "clearance", lambda: level)
        monkeypatch.setattr(api.v1, "clearance", lambda: level)

    return set_level


def test_public_callers_see_suppressed_county_counts_and_staff_exact_ones(client, planted, as_level):
    as_level(PUBLIC)
    day = {
        c: client.get(f"/api/v1/summary?region={c}&date=2020-02-10").get_json()
        for c in ("611002", "611021", "611022", "611000")
    }
    assert (day["611002"]["new_confirmed"], day["611002"]["suppression"]) == (None, "small_count")
    assert (day["611021"]["new_confirmed"], day["611021"]["suppression"]) == (None, "complementary")
    assert (day["611022"]["new_confirmed"], day["611022"]["suppression"]) == (7, None)
    assert all(day[c]["confirmed_cum"] is None and day[c]["active"] is None for c in ("611002", "611021", "611022"))
    assert day["611000"]["suppression"] is None  # the unit: exact (the shipped 商洛 row, not the case list)
    series = client.get("/api/v1/timeseries?region=611024&start=2020-02-10&end=2020-02-12").get_json()
    assert [(r["date"], r["new_confirmed"], r["suppression"]) for r in series] == [
        ("2020-02-10", 0, None),
        ("2020-02-11", None, "small_count"),
        ("2020-02-12", 0, None),
    ]  # a case list: 0
    csv_text = client.get("/api/v1/timeseries?region=611025&start=2020-02-11&end=2020-02-11&format=csv").get_data(
        as_text=True
    )
    assert "complementary" in csv_text and ",3," not in csv_text

    # a county's forecast carries its recent counts (a 7-day mean): staff only; units and the province stay public
    refused = client.get("/api/v1/forecast?region=611002&date=2020-02-10")
    assert refused.status_code == 403 and "登录" in refused.get_json()["error"]
    assert client.get("/api/v1/forecast?region=611000&date=2020-02-10").status_code == 200

    as_level(INTERNAL)  # signed-in staff: exact, from the same URL (the response cache is kept per clearance)
    exact = client.get("/api/v1/summary?region=611002&date=2020-02-10").get_json()
    assert (exact["new_confirmed"], exact["confirmed_cum"], exact["suppression"]) == (1, 1, None)
    assert len(client.get("/api/v1/forecast?region=611002&date=2020-02-10").get_json()) == 14


def _every_get_route(server) -> list[str]:
    urls = []
    for rule in server.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static":
            urls.append(rule.rule)
    return sorted(set(urls))


# Bounded by anything but ASCII letters, digits and dots: a run of digits inside a hex token (a nonce, a data
# version's hash) is not a number a person could read off the page, but one beside Chinese text or punctuation is.
ID_LIKE = re.compile(
    r"(?<![0-9A-Za-z.])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
)
MOBILE_LIKE = re.compile(r"(?<![0-9A-Za-z.])1[3-9]\d{9}(?![0-9A-Za-z])")


def _texts(payload) -> str:
    """Everything a response carries as text: JSON of components and figures, CSV, and the sheets of an XLSX."""
    if isinstance(payload, bytes):
        if payload[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(payload)) as z:
                return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        return payload.decode("utf-8", "replace")
    if isinstance(payload, dict) and payload.get("base64"):
        return _texts(base64.b64decode(payload["content"]))
    return json.dumps(payload, ensure_ascii=False, default=str)


def test_no_response_anywhere_carries_personal_data(client, app_module, planted, as_level, tmp_path, capsys):
    """Planted names, ID numbers, phones, addresses and itineraries (and anything shaped like an ID or mobile
    number) appear in no route, API answer, page, callback output or export."""
    import callbacks.dashboard as dash_cb
    import callbacks.data_page as data_cb
    import views.exports as exports
    from figures import tables
    from views import assessment, flows, kpis, maps, ranking, trends, wall

    file = planted_case_list()
    ids = set(re.findall(r"6110\d{13}[\dX]", file.decode()))
    needles = {
        *PLANTED["names"],
        *PLANTED["phones"],
        *PLANTED["addresses"],
        *PLANTED["itineraries"],
        *ids,
        *(i.lower() for i in ids),
    }
    scanned: list[str] = []
    hits: list[str] = []

    def scan(label: str, payload) -> None:
        text = _texts(payload)
        scanned.append(label)
        found = [n for n in needles if n in text] + ID_LIKE.findall(text) + MOBILE_LIKE.findall(text)
        if found:
            hits.append(f"{label}: {found[:3]}")

    # the scan itself can fail: the uploaded file, as written, is full of what it looks for
    control = _texts(file)
    assert (
        all(any(n in control for n in PLANTED[k]) for k in PLANTED)
        and ID_LIKE.search(control)
        and MOBILE_LIKE.search(control)
    )

    counties = ["611002", "611021", "611022", "611024", "611025", "611026"]
    for level in (INTERNAL, PUBLIC):
        as_level(level)
        for url in _every_get_route(app_module.server):
            scan(f"{level} GET {url}", client.get(url, headers={"Accept-Encoding": "identity"}).get_data())
        for region in ["610000", "611000", *counties]:
            for fmt in ("json", "csv"):
                scan(
                    f"{level} timeseries {region} {fmt}",
                    client.get(f"/api/v1/timeseries?region={region}&format={fmt}").get_data(),
                )
            for day in ("2020-02-10", "2020-02-11"):
                scan(
                    f"{level} summary {region} {day}",
                    client.get(f"/api/v1/summary?region={region}&date={day}").get_data(),
                )
            scan(f"{level} facilities {region}", client.get(f"/api/v1/facilities?region={region}").get_data())
        for fmt in ("json", "csv"):
            scan(f"{level} flows", client.get(f"/api/v1/flows?region=611000&date=2020-02-10&format={fmt}").get_data())
        for page in ("/?region=611002&date=2020-02-10", "/wall?region=611000&date=2020-02-10", "/data"):
            scan(f"{level} page {page}", client.get(page).get_data())

    as_level(INTERNAL)  # staff see the most: the callbacks and exports of the pages
    for region, day in [("611000", "2020-02-10"), ("611002", "2020-02-10"), ("611024", "2020-02-11")]:
        scan(f"kpis {region}", dash_cb.update_notes(region, day))
        scan(f"kpi books {region}", kpis.kpi_books(region))  # every day's KPI row the page holds
        scan(f"map days {region}", maps.map_days(region, "confirmed_cum", None))
        for metric in ("confirmed_cum", "new_7d", "incidence_7d_per_100k", "rt", "risk_level"):
            scan(f"map {region} {metric}", maps.build_map(region, day, metric, ["fever_clinic"]))
        for view in ("single", "units", "compare", "rt"):
            scan(f"trend {region} {view}", trends.trend_figure(view, region, day, [], [region]).to_plotly_json())
        scan(f"assessment {region}", assessment.assessment(region, day))
        scan(f"flows {region}", flows.flow_view(region, day, "in", "national", "city", None))
        scan(
            f"wall {region}",
            wall.wall_view({"region": region, "date": day, "pinned_date": True, "metric": "confirmed_cum"}, 0),
        )
        for chart in exports.CHART_NAMES:
            frame = exports.chart_table(chart, region, day)
            scan(f"export {chart} {region} csv", tables.to_csv(frame))
            scan(f"export {chart} {region} xlsx", tables.to_xlsx(frame, "数据"))
        for kind in ("csv", "xlsx"):
            scan(f"ranking {kind} {day}", ranking.ranking_download(day, None, kind))
    # one more blank line: not the stored file (which previews as 已导入), so the page lists every row, each now a
    # repeated report of a stored case
    contents = "data:text/csv;base64," + base64.b64encode(file + b"\n").decode()
    shown = data_cb.preview_upload(
        contents, "auto", None, "../../x.csv", []
    )  # as the page shows it: a preview, not an error
    assert (
        "预检病例个案文件 x.csv" in _texts(shown)
        and "重复 22 行" in _texts(shown)
        and "未入库或需注意的行（共24行）" in _texts(shown)
    )
    scan("upload preview", shown)
    scan("upload preview (case-list)", data_cb.preview_upload(contents, "case-list", None, "x.csv", []))
    scan("upload problem rows", data_cb.download_preview_issues(1, contents, "x.csv", "case-list"))
    scan("batch history and quality", data_cb.show_batches(0))
    scan("batch problem rows", tables.to_csv(pipeline.issues_of(planted.batch_id)))
    written = pipeline.write_issues(planted, tmp_path)
    scan("CLI problem-row file", written.read_bytes())

    with capsys.disabled():
        print(f"\nPII scan: {len(scanned)} responses scanned, {len(hits)} with personal data")
    assert len(scanned) > 150
    assert hits == []


def test_the_briefing_pack_carries_no_personal_data(planted, tmp_path):
    """The PPTX of 商洛 on the planted day: its slides' text (the pictures are made from the same figures the
    scan above read) has no planted value."""
    from reports import briefing

    out = tmp_path / "汇报.pptx"
    briefing.write("611000", "2020-02-10", out)
    text = _texts(out.read_bytes())
    assert "商洛市" in text
    leaked = [v for values in PLANTED.values() for v in values if v in text]
    assert leaked == [] and not ID_LIKE.search(text) and not MOBILE_LIKE.search(text)


def test_problem_rows_neutralise_formulas_and_echo_no_personal_column(planted):
    text = _texts(planted_issues := pipeline.issues_of(planted.batch_id).to_dict("records"))
    assert "=cmd" in text  # stored as written: the officer's own cell
    from figures import tables

    csv_text = tables.to_csv(pd.DataFrame(planted_issues))
    assert "'=cmd|' /C calc'!A0" in csv_text and "\n=cmd" not in csv_text and ",=cmd" not in csv_text
    assert not {"姓名", "身份证号", "电话", "详细地址", "行程", "户籍地址"} & set(planted_issues[0])


def test_every_served_field_is_catalogued_public():
    for name in ("regions", "summary", "flows", "facilities"):
        assert all(f.level == PUBLIC for f in catalogue.DATASETS[name].fields)
    assert catalogue.visible_fields("case_list", INTERNAL) == [
        "report_date",
        "region_adcode",
        "sex",
        "age",
        "severity",
        "detection",
    ]
    assert catalogue.visible_fields("case_list", PUBLIC) == []
    assert not catalogue.allowed(catalogue.SENSITIVE, INTERNAL)
