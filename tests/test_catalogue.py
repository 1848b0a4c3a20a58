"""The catalogue (data/catalogue.py) names every field once: what the metric select, the map's colour axis, the
ranking table, the downloads and the API's OpenAPI document show for a catalogued field is the catalogue's label
or header. Each test walks what users see and compares it with the catalogue, so a label written again somewhere
else, and later changed in one place only, fails here."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from data import catalogue
from data.catalogue import title

DAY = "2020-02-15"
# the OpenAPI document's row schemas -> the data set each describes
SCHEMAS = {
    "Region": "regions",
    "Summary": "summary",
    "Flow": "flows",
    "Coverage": "coverage",
    "Adequacy": "adequacy",
    "Alert": "alerts",
    "ReportingStatus": "reporting",
}


def _components(layout):
    yield layout
    yield from layout._traverse()


@pytest.fixture(scope="module")
def layout(app_module):
    from layouts.validation import validation_layout

    with app_module.server.test_request_context("/"):
        return validation_layout()


def test_a_name_alone_finds_one_field_of_a_regions_day():
    """``title(name)`` without a data set looks in the summary and the derived figures: a name in both would be
    ambiguous."""
    summary = {f.name for f in catalogue.SUMMARY_FIELDS}
    assert not summary & {f.name for f in catalogue.DERIVED_FIELDS}
    assert all(catalogue.field_named(name) for name in catalogue.MAP_METRICS)


def test_the_metric_select_offers_the_catalogues_map_metrics_by_their_labels(layout):
    select = next(c for c in _components(layout) if getattr(c, "id", None) == "metric-select")
    assert [(o["value"], o["label"]) for o in select.options] == [
        (name, catalogue.label(name)) for name in catalogue.MAP_METRICS
    ]


def test_the_maps_colour_axis_says_the_catalogues_label_and_unit():
    from figures.metrics import colour_axis

    for name in catalogue.MAP_METRICS:
        field = catalogue.field_named(name)
        text = colour_axis(name, pd.Series([0.0, 1.0, 2.0]))["colorbar"]["title"]["text"]
        assert text == (f"{field.label}<br>（{field.unit}）" if field.unit else field.label)


def test_every_map_metric_has_values_to_colour_by(app_module):
    """A metric in the catalogue's list is a column of the day's frame the map reads: catalogued and computed."""
    from data import queries

    assert set(catalogue.MAP_METRICS) <= set(queries.on_day(DAY, "unit").columns)


def test_the_ranking_tables_headers_are_the_catalogues(app_module):
    from data import queries
    from figures import tables
    from views.ranking import ranking_cells

    heads = ranking_cells(DAY, "610100", "confirmed_cum", False)["heads"]
    assert heads == {c: title(c) + ("▼" if c == "confirmed_cum" else "") for c in ("name", *tables.RANKING_COLUMNS)}
    # its download: the same columns under the same headers, after the date and the region
    csv = tables.ranking_csv(queries.on_day(DAY, "unit"), DAY).lstrip("\ufeff")
    header = pd.read_csv(io.StringIO(csv), nrows=0).columns.tolist()
    assert header == [*(title(c) for c in ("date", "adcode", "name")), *(title(c) for c in tables.RANKING_COLUMNS)]


def test_the_chart_downloads_column_titles_are_the_catalogues(app_module):
    from figures import tables
    from views.exports import chart_table
    from views.resources import DOWNLOAD_COLUMNS
    from views.resources import download_table as adequacy_download

    map_table = chart_table("region-map", "610000", DAY)
    assert map_table.columns.tolist() == [title(c) for c in ("date", "adcode", "name", *catalogue.MAP_METRICS)]
    trend = chart_table("trend-chart", "610100", DAY)
    assert trend.columns.tolist() == ["日期", "地区", *(title(c) for c in tables.SERIES_COLUMNS)]
    assert title("importation_risk") in chart_table("import-chart", "610000", DAY).columns
    adequacy = adequacy_download("610000", DAY, 10).columns.tolist()
    catalogued = [c for c in DOWNLOAD_COLUMNS if catalogue.DATASETS["adequacy"].field(c)]
    shown = dict(zip(DOWNLOAD_COLUMNS, adequacy[3:]))
    # the two shares are downloaded as ratios and say so; every other catalogued column has the catalogue's header
    assert {c: shown[c] for c in catalogued if c not in ("clinic_load", "covered_share")} == {
        c: title(c, "adequacy") for c in catalogued if c not in ("clinic_load", "covered_share")
    }
    assert shown["clinic_load"].startswith(title("clinic_load", "adequacy"))


def test_the_openapi_schemas_describe_each_field_by_its_catalogue_header(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    facility = document["paths"]["/api/v1/facilities"]["get"]["responses"]["200"]["content"]["application/json"]
    described = {name: schemas[name]["properties"] for name in SCHEMAS}
    described["facilities"] = _feature_properties(facility["schema"])
    for schema, properties in described.items():
        dataset = SCHEMAS.get(schema, schema)
        assert properties, schema
        for name, spec in properties.items():
            header = title(name, dataset)
            assert spec["description"] == header or spec["description"].startswith(f"{header}："), (schema, name)


def _feature_properties(schema: dict) -> dict:
    """The catalogued properties of a facility inside the GeoJSON FeatureCollection's schema."""
    feature = schema["properties"]["features"]["items"]
    return feature["properties"]["properties"]["properties"]
