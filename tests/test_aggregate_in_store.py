"""Issue 22: the case list and the flow rows stay in the store. What a view asks for is read per focus and day (or
counted from an index) and must equal what the whole table gives; revisions and rollbacks still count."""

from __future__ import annotations

import shutil
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import insert, text, update

from data import flow_queries, queries, scale, store


@pytest.fixture()
def eng(shipped_sqlite, tmp_path):
    path = tmp_path / "store.sqlite"
    shutil.copyfile(shipped_sqlite, path)
    engine = store.engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def test_the_flow_summary_keeps_no_rows_and_a_day_read_equals_the_whole_table(eng):
    data = flow_queries.flow_data(eng)
    kept = [v for v in vars(data).values() if isinstance(v, pd.DataFrame | pd.Series)]
    assert max(len(v) for v in kept) < 50_000  # scale index and origin incidence, not the ~200k flow rows
    whole = data.flows  # the whole table, read on purpose
    for focus, direction, day in (("610100", "in", "2020-01-20"), ("610000", "out", "2020-02-01")):
        want = whole.loc[(focus, direction, pd.Timestamp(day))].reset_index(drop=True)
        got = flow_queries._rows(focus, direction, day, eng)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
    risk = data.risk
    for day in ("2020-01-10", "2020-01-20", "2020-02-15"):
        pd.testing.assert_series_equal(
            flow_queries.risk_between(day, day, eng), risk[risk.index.get_level_values(1) == pd.Timestamp(day)]
        )
    block = flow_queries.risk_between("2020-01-01", "2020-03-31", eng)  # read a month at a time
    pd.testing.assert_series_equal(block, risk)
    contributions = data.contributions
    day = flow_queries.contributions_between("2020-01-20", "2020-01-20", eng, focus="610100")
    want = contributions.loc[[("610100", pd.Timestamp("2020-01-20"))]]
    assert sorted(day["contribution"].round(12)) == sorted(want["contribution"].round(12))


def test_a_later_flow_batch_revises_a_row_and_its_rollback_restores_it(eng):
    day = date(2020, 1, 20)
    before = flow_queries._rows("610100", "in", day, eng).set_index("counterpart_adcode")["share_pct"]
    with eng.begin() as conn:
        batch = conn.execute(
            insert(store.batches).values(
                kind="flows", file_name="rev.csv", checksum="x" * 64, size_bytes=1, rows_accepted=1, status="active"
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(store.flows).values(
                batch_id=batch,
                date=day,
                direction="in",
                focus_adcode="610100",
                counterpart_adcode="420100",
                counterpart_name="武汉市",
                counterpart_level="city",
                share_pct=42.0,
            )
        )
    revised = flow_queries._rows("610100", "in", day, eng).set_index("counterpart_adcode")["share_pct"]
    assert revised["420100"] == 42.0 and len(revised) == len(before)
    assert revised.drop("420100").equals(before.drop("420100"))
    with eng.begin() as conn:
        conn.execute(update(store.batches).where(store.batches.c.id == batch).values(status="rolled_back"))
    assert flow_queries._rows("610100", "in", day, eng).set_index("counterpart_adcode")["share_pct"].equals(before)


@pytest.fixture(scope="module")
def small_scale(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "scale.sqlite"
    engine = store.engine(f"sqlite:///{path}")
    scale.generate(engine, case_rows=3000, facility_rows=200, flow_rows=30_000, say=lambda *_: None)
    yield engine
    engine.dispose()


def test_case_list_counts_from_the_index_equal_counting_the_rows(small_scale):
    events = queries._case_list_events(small_scale)
    with small_scale.connect() as conn:
        rows = pd.read_sql("SELECT region_adcode, zone, report_date FROM case_list", conn)
        plan = " ".join(
            str(r[-1])
            for r in conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT batch_id, region_adcode, zone, report_date, count(*) FROM case_list "
                    "WHERE batch_id IN (1, 2) GROUP BY batch_id, region_adcode, zone, report_date"
                )
            )
        )
    want = rows.groupby(["region_adcode", "report_date"]).size()
    got = events.assign(report_date=events.report_date.dt.date.astype(str)).set_index(["region_adcode", "report_date"])[
        "n"
    ]
    assert got.sort_index().to_dict() == want.sort_index().to_dict() and events["n"].sum() == len(rows)
    assert "COVERING INDEX ix_case_list_batch_place" in plan  # the rows themselves are never read


def test_a_day_of_flows_is_an_index_lookup(small_scale):
    with small_scale.connect() as conn:
        plan = " ".join(
            str(r[-1])
            for r in conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT * FROM flows "
                    "WHERE focus_adcode = '610100' AND direction = 'in' AND date = '2024-01-01'"
                )
            )
        )
        first = conn.execute(text("EXPLAIN QUERY PLAN SELECT min(date) FROM flows WHERE batch_id = 1")).all()
    assert "ix_flows_focus_date" in plan
    assert "ix_flows_batch_date" in str(first)
    assert flow_queries.flow_data(small_scale).start == pd.Timestamp(scale.START)


def test_the_size_factor_adds_county_flow_regions_only_beyond_what_cities_can_give():
    assert scale.flow_focus(5_000_000, 357) == scale.FLOW_FOCUS  # the scale set as it always was
    ten_times = scale.flow_focus(50_000_000, 357)
    assert ten_times[: len(scale.FLOW_FOCUS)] == scale.FLOW_FOCUS and len(ten_times) == len(scale.FLOW_FOCUS) + 107
