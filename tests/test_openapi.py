"""The OpenAPI document of /api/v1 against the app itself: schemathesis generates requests from the document
(valid and odd parameter values) and checks every answer: no server error, the status codes, content types and
bodies the document declares."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

import app
from api import openapi

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app.server)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_endpoint_keeps_to_its_document(case):
    # A well-formed date outside the data's range is a 400 by the contract (CONTRACT.md), though the document cannot
    # say the range (it follows the data): so "every schema-valid request is accepted" is the one check left out.
    # Accept-Encoding: identity, because the WSGI transport does not unzip what flask-compress sends.
    case.call_and_validate(headers={"Accept-Encoding": "identity"}, excluded_checks=[positive_data_acceptance])


def test_the_document_lists_every_api_route(app_module):
    routes = {
        rule.rule
        for rule in app_module.server.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") and rule.endpoint != "api_v1.unknown"
    }  # the JSON 404 for the rest
    assert routes == set(openapi.document()["paths"])


HOSTILE = [
    "-2020-01-01",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "",
    " ",
    "2020-02-30",
    "20200215",
    "2020-2-15",
    "2020-02-15T00:00",
    "1e400",
    "NaN",
    "%00",
    "2020-02-15' OR '1'='1",
    "２０２０-０２-１５",
    "x" * 5000,
]
ENDPOINTS = [
    "/api/v1/summary?region=610100&date={}",
    "/api/v1/timeseries?region=610100&start={}",
    "/api/v1/timeseries?region=610100&end={}",
    "/api/v1/flows?region=610100&date={}",
    "/api/v1/adequacy?date={}",
    "/api/v1/facilities?region={}",
    "/api/v1/coverage?distance_km={}",
    "/api/v1/regions?format={}",
    "/api/v1/summary?region=610000&format={}",
    "/api/v1/facilities?region=610100&format={}",
    "/api/v1/alerts?format={}",
]


def test_hostile_parameters_are_answered_in_words_never_with_a_server_error(client):
    """Signed, zero and far years, empty and junk values and formats on every endpoint: 400 or 404 with the
    parameter named in JSON, never a 5xx or a trace."""
    from urllib.parse import quote

    answers = {}
    for template in ENDPOINTS:
        for value in HOSTILE + ["xml", "json5", "CSV"]:
            r = client.get(template.format(quote(value)), headers={"Accept-Encoding": "identity"})
            answers[(template, value)] = r.status_code
            assert r.status_code < 500, (template, value, r.status_code)
            if r.status_code >= 400:
                assert r.is_json and r.get_json()["error"] and "Traceback" not in r.get_data(as_text=True)
    assert {s for s in answers.values()} >= {400}
    for path in ("/api/v1/nothing", "/api/v1/summary/extra", "/api/v1/"):
        r = client.get(path)
        assert r.status_code == 404 and r.is_json and "openapi.json" in r.get_json()["error"]
