"""The OpenAPI document of /api/v1 against the app itself: schemathesis generates requests from the document
(valid and odd parameter values) and checks every answer: no server error, the status codes, content types and
bodies the document declares."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from schemathesis.specs.openapi.checks import positive_data_acceptance

from api import openapi


import app  # noqa: E402  (conftest has set the store; schemathesis' from_fixture does not work with pytest 9)

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app.server)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_endpoint_keeps_to_its_document(case):
    # A well-formed date outside the data's range is a 400 by the contract (CONTRACT.md), though the document cannot
    # say the range (it follows the data): so "every schema-valid request is accepted" is the one check left out.
    # Accept-Encoding: identity, because the WSGI transport does not unzip what flask-compress sends.
    case.call_and_validate(headers={"Accept-Encoding": "identity"}, excluded_checks=[positive_data_acceptance])


def test_the_document_lists_every_api_route(app_module):
    routes = {rule.rule for rule in app_module.server.url_map.iter_rules() if rule.rule.startswith("/api/v1")}
    assert routes == set(openapi.document()["paths"])
