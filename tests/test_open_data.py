"""`flask export-open-data`: a Frictionless Data Package of the public aggregates that validates, with county
counts suppressed whoever runs it, exact unit figures equal to the API's, and no personal data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import frictionless
import pandas as pd
import pytest
from conftest import PLANTED, planted_case_list

from data import migrate, shipped, store
from data.ingest import pipeline

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def package(new_store, tmp_path_factory):
    """The package exported by the command line from a store with the shipped data and the planted case list."""
    url = new_store("opendata")
    eng = store.connect(url)
    migrate.upgrade(eng)  # the schema as every new store gets it
    shipped.ensure_loaded(eng)
    assert pipeline.ingest(planted_case_list(), "病例个案.csv", "case-list", eng=eng).batch_id
    eng.dispose()
    out = tmp_path_factory.mktemp("open") / "开放数据"
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app:server", "export-open-data", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "datapackage.json" in done.stdout and "daily_counties.csv：" in done.stdout
    return out


def test_the_package_validates_with_frictionless(package):
    report = frictionless.validate(str(package / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    assert report.stats["tasks"] == 4


def test_descriptor_says_licence_sources_and_demo(package):
    d = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    assert d["licenses"][0]["name"] == "CC-BY-4.0" and d["sources"]
    names = {r["name"]: r for r in d["resources"]}
    assert set(names) == {"regions", "daily_province_units", "daily_counties", "facilities_by_county"}
    assert "演示数据" in names["facilities_by_county"]["title"]
    assert all(f.get("title") for r in d["resources"] for f in r["schema"]["fields"])
    assert "百度" in d["description"]  # why flows are not in it


def test_county_counts_are_suppressed_and_unit_counts_exact(package, client):
    counties = pd.read_csv(package / "daily_counties.csv", dtype=str, keep_default_na=False).set_index(
        ["date", "adcode"]
    )
    assert tuple(counties.loc[("2020-02-10", "611002"), ["new_confirmed", "new_confirmed_shown", "suppression"]]) == (
        "",
        "<3",
        "small_count",
    )
    assert tuple(counties.loc[("2020-02-10", "611021"), ["new_confirmed", "new_confirmed_shown", "suppression"]]) == (
        "",
        "<3",
        "complementary",
    )
    assert tuple(counties.loc[("2020-02-10", "611022"), ["new_confirmed", "suppression"]]) == ("7", "")
    assert "confirmed_cum" not in counties.columns  # no cumulative: its differences would give a hidden day back
    units = pd.read_csv(package / "daily_province_units.csv", dtype={"adcode": str}).set_index(["date", "adcode"])
    api = client.get("/api/v1/summary?region=610100&date=2020-02-15").get_json()
    row = units.loc[("2020-02-15", "610100")]
    assert (row.confirmed_cum, row.cured_cum, row.dead_cum, row.new_confirmed) == (
        api["confirmed_cum"],
        api["cured_cum"],
        api["dead_cum"],
        api["new_confirmed"],
    )


def test_no_personal_data_in_the_package(package):
    text = "\n".join(p.read_text(encoding="utf-8") for p in package.iterdir())
    for values in PLANTED.values():
        assert not any(v in text for v in values)
    assert "6110021990" not in text
