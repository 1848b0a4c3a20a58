"""Forecasts (analytics/forecast.py, data/forecasts.py, /api/v1/forecast, the trend's fan) and their backtest."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analytics import forecast as model

FIELDS = list(model.FIELDS)


@pytest.fixture(scope="module")
def province(app_module):
    from data import forecasts

    return forecasts.series("610000")


def _ordered_integers(frame: pd.DataFrame) -> None:
    values = frame[FIELDS].to_numpy()
    assert values.dtype.kind == "i" and (values >= 0).all()
    assert (np.diff(values, axis=1) >= 0).all(), "quantiles out of order"


@pytest.mark.parametrize("origin", ["2020-01-30", "2020-02-08", "2020-04-20", "2020-06-01"])
def test_no_forecast_reads_a_day_after_its_origin(province, origin):
    """The forecast made on a day is the same whatever happened after it: every later day (cases and imports)
    replaced by something wild changes nothing."""
    counts, imported = province
    day = pd.Timestamp(origin)
    made = model.forecast(counts.loc[:day], 14, imported.loc[:day])
    rng = np.random.default_rng(7)
    later = counts.index > day
    wild_counts = counts.copy()
    wild_counts[later] = rng.integers(0, 500, later.sum())
    wild_imported = imported.reindex(counts.index).copy()
    wild_imported[later] = rng.integers(0, 50, later.sum())
    again = model.forecast(wild_counts.loc[:day], 14, wild_imported.loc[:day])
    for name in model.MODELS:
        pd.testing.assert_frame_equal(made[name], again[name])
    # and what the data layer cuts for an origin is exactly the days up to it
    from data import forecasts

    cut, cut_imported = forecasts.origin_series("610000", origin)
    assert cut.index.max() == day and cut_imported.index.max() <= day


def test_forecasts_are_ordered_non_negative_integers_after_the_origin(province):
    counts, imported = province
    for origin in pd.date_range("2020-01-25", "2020-03-10", freq="5D"):
        made = model.forecast(counts.loc[:origin], 14, imported.loc[:origin])
        for frame in made.values():
            _ordered_integers(frame)
            assert frame.index[0] == origin + pd.Timedelta(days=1) and len(frame) == 14


def test_wis_of_a_hand_computed_example():
    """y = 10, median 8, 50 % interval [6, 9], 90 % interval [4, 12]:
    IS_0.5 = (9 - 6) + 2/0.5 x (10 - 9) = 7; IS_0.1 = 12 - 4 = 8;
    WIS = (0.5 x |10 - 8| + 0.5/2 x 7 + 0.1/2 x 8) / 2.5 = (1 + 1.75 + 0.4) / 2.5 = 1.26."""
    q = pd.DataFrame([{"lower_90": 4, "lower_50": 6, "median": 8, "upper_50": 9, "upper_90": 12}])
    assert model.wis([10], q)[0] == pytest.approx(1.26)
    assert model.covered([10], q, 90)[0] and not model.covered([10], q, 50)[0]
    # the truth on the median inside both intervals: half the widths only
    assert model.wis([8], q)[0] == pytest.approx((0.25 * 3 + 0.05 * 8) / 2.5)


def test_the_baseline_carries_the_last_week_forward_with_its_own_errors():
    steady = pd.Series(5.0, index=pd.date_range("2020-01-01", periods=60))
    made = model.forecast(steady, 14)["baseline"]
    assert (made.to_numpy() == 5).all()  # no past error: no spread
    noisy = pd.Series(np.tile([3.0, 7.0], 40), index=pd.date_range("2020-01-01", periods=80))
    made = model.forecast(noisy, 7)["baseline"]
    assert (made["median"] == 5).all() and (made["lower_90"] < 5).all() and (made["upper_90"] > 5).all()


def test_the_renewal_model_follows_growth_and_decline():
    days = pd.date_range("2020-01-01", periods=40)
    growing = pd.Series(np.round(2 * 1.12 ** np.arange(40)), index=days)
    fading = pd.Series(np.round(1000 * 0.9 ** np.arange(40)), index=days)
    up = model.forecast(growing, 14)["renewal"]["median"]
    down = model.forecast(fading, 14)["renewal"]["median"]
    assert up.iloc[-1] > up.iloc[0] > growing.iloc[-7:].mean()
    assert down.iloc[-1] < down.iloc[0] <= fading.iloc[-7:].mean()
    quiet = pd.Series(0.0, index=days)
    assert (model.forecast(quiet, 14)["ensemble"].to_numpy() == 0).all()


def test_the_api_gives_the_ensemble_for_the_days_after_the_date(client):
    answer = client.get("/api/v1/forecast?region=610000&date=2020-02-01&horizon=5")
    assert answer.status_code == 200
    rows = answer.get_json()
    assert [r["date"] for r in rows] == ["2020-02-02", "2020-02-03", "2020-02-04", "2020-02-05", "2020-02-06"]
    frame = pd.DataFrame(rows)
    _ordered_integers(frame.astype({f: int for f in FIELDS}))
    # the 90 % interval of the next day holds what was then reported (14 new cases on 2020-02-02)
    assert rows[0]["lower_90"] <= 14 <= rows[0]["upper_90"]
    default = client.get("/api/v1/forecast?region=610100&date=2020-02-01").get_json()
    assert len(default) == 14
    csv_text = client.get("/api/v1/forecast?region=610000&date=2020-02-01&horizon=2&format=csv").get_data(as_text=True)
    assert csv_text.lstrip("\ufeff").splitlines()[0] == "date,median,lower_50,upper_50,lower_90,upper_90"


@pytest.mark.parametrize(
    "query, status, word",
    [
        ("region=610000&horizon=15", 400, "horizon"),
        ("region=610000&horizon=x", 400, "horizon"),
        ("region=610000&date=2019-01-01", 400, "date"),
        ("region=999999", 404, "region"),
        ("", 400, "region"),
    ],
)
def test_the_api_refuses_bad_parameters_in_words(client, query, status, word):
    answer = client.get(f"/api/v1/forecast?{query}")
    assert answer.status_code == status and word in answer.get_json()["error"]


def test_the_openapi_document_names_the_model_and_method(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/api/v1/forecast"]["get"]
    assert "ensemble" in op["description"] and "更新方程" in op["description"]
    assert {p["name"] for p in op["parameters"]} >= {"region", "date", "horizon"}


def test_the_trend_draws_the_fan_after_the_day(app_module):
    from views.trends import trend_figure

    fig = trend_figure("region", "610000", "2020-02-05", [], [])
    fan = [t for t in fig.data if t.meta and t.meta.get("forecast")]
    assert {t.meta["forecast"] for t in fan} == set(FIELDS)
    median = next(t for t in fan if t.meta["forecast"] == "median")
    assert str(median.x[0])[:10] == "2020-02-06" and len(median.x) == 14
    assert all(str(x)[:10] <= "2020-02-05" for t in fig.data if not (t.meta and t.meta.get("forecast")) for x in t.x)


def test_a_date_step_sends_the_days_fan(app_module):
    from callbacks.dashboard import forecast_on_day

    fan = forecast_on_day("2020-02-10", "610100", "region", [])
    assert fan["x"][0] == "2020-02-11" and len(fan["median"]) == 14
    per100k = forecast_on_day("2020-02-10", "610100", "region", ["per100k"])
    assert per100k["median"][0] < fan["median"][0]


def test_the_backtest_scores_against_the_baseline(app_module, tmp_path):
    from data import forecasts

    scores = forecasts.run_backtest(["610000", "610100"], "2020-01-29", "2020-03-15")
    assert set(scores.model) == set(model.MODELS) and scores.horizon.max() == 14
    assert (scores.date <= pd.Timestamp("2020-03-29")).all()
    report = forecasts.report(scores)
    base = [r for r in report["province_by_horizon"] if r["model"] == "baseline"]
    assert all(r["relative_wis"] == 1 for r in base)
    assert all(0 <= r["coverage_90"] <= 1 and r["coverage_50"] <= r["coverage_90"] + 1e-9 for r in report["by_horizon"])
    assert len(report["verdicts"]) == 2 and all("相对WIS" in v for v in report["verdicts"])
    # the same numbers by hand from the scores: the province's 7-day ensemble WIS over the baseline's
    p7 = scores[(scores.region == "610000") & (scores.horizon == 7)]
    by_hand = p7[p7.model == "ensemble"].wis.mean() / p7[p7.model == "baseline"].wis.mean()
    row = next(r for r in report["province_by_horizon"] if r["model"] == "ensemble" and r["horizon"] == 7)
    assert row["relative_wis"] == pytest.approx(by_hand, abs=1e-4)


@pytest.mark.once  # the command and its file; the backtest from either store: test_the_backtest_scores_against...
def test_the_backtest_command_writes_its_json(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    out = tmp_path / "bt.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "app:server",
            "backtest",
            "--region",
            "610100",
            "--start",
            "2020-02-01",
            "--end",
            "2020-02-20",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["first_origin"] == "2020-02-01" and report["last_origin"] == "2020-02-20"
    assert report["regions"] == 1 and "更新方程" in report["method"]
    bad = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app:server", "backtest", "--start", "2020-13-01"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "--start" in bad.stderr and "Traceback" not in bad.stderr


def test_the_models_page_says_where_a_model_does_worse_than_the_baseline(app_module):
    from callbacks.models import report_views
    from data import forecasts

    report = forecasts.report(forecasts.run_backtest(["610000"], "2020-01-29", "2020-02-29"))
    status, verdicts, skill, coverage, tables = report_views(report)
    assert "2020-01-29" in status
    seven = {r["model"]: r for r in report["province_by_horizon"] if r["horizon"] == 7}
    for verdict, name in zip(verdicts, ("ensemble", "renewal")):
        said = verdict.children
        assert model.MODEL_NAMES[name] in said
        assert ("不如基线" in said) == (seven[name]["relative_wis"] >= 1)
    assert [t.name for t in skill.data] == [model.MODEL_NAMES[m] for m in model.MODELS]
    assert len(coverage.data) == 6 and len(tables) == 2
