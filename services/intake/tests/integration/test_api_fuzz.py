"""Property-based fuzzing of the whole API from its OpenAPI document (schemathesis): never a 5xx.

Valid and schema-violating requests for every operation, with a valid token, against the app on real
PostgreSQL and Kafka. The case count is printed (``-s``) and asserted, so a silently empty run fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans

from wegweiser.intake.app import build
from wegweiser.intake.settings import IntakeSettings

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION_AND_MODE = 15


def test_no_generated_request_makes_the_api_fail(
    intake_settings: Callable[..., IntakeSettings], authority: Any
) -> None:
    app = build(intake_settings(quota_authority_burst=100_000, quota_ags_burst=100_000))
    headers = authority(ags=("08111000", "08115003", "08121000"))
    cases = 0
    failures: list[str] = []
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        for result in schema.get_all_operations():
            operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails loudly here
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @hypothesis.settings(
                    max_examples=EXAMPLES_PER_OPERATION_AND_MODE,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    suppress_health_check=list(hypothesis.HealthCheck),
                    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                )
                @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
                def check(case: schemathesis.Case) -> None:
                    nonlocal cases
                    cases += 1
                    response = case.call(headers=headers)
                    if response.status_code >= 500:
                        failures.append(f"{response.status_code} {case.as_curl_command(headers=headers)}")
                    elif response.status_code >= 400:
                        content_type = response.headers.get("content-type", [""])
                        assert "application/problem+json" in str(content_type), case.as_curl_command()

                try:
                    check()
                except hypothesis.errors.Unsatisfiable:
                    # Nothing to get wrong (e.g. no parameters): no schema-violating request exists.
                    assert mode is GenerationMode.NEGATIVE, operation.label
    finally:
        shutdown_lifespans()
    print(f"schemathesis: {cases} generated requests")
    assert cases >= 100
    assert failures == []
