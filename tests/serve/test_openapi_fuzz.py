"""schemathesis against the server's own ``/openapi.json``: generated requests for every documented
operation never get a 5xx, and documented answers match the documented schema. Bounded examples per
operation so the suite stays fast."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from .conftest import Running


def test_generated_requests_never_get_a_server_error(served: Running) -> None:
    # Driven by hand (schemathesis' pytest plugin does not run under pytest 9): one Hypothesis run per
    # documented operation.
    schema = schemathesis.openapi.from_url(f"{served.url}/openapi.json")
    checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case: Any) -> None:
            case.call_and_validate(checks=checks)

        call()
