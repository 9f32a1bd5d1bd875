"""Property-based fuzzing of the whole API from its OpenAPI document (schemathesis): never a 5xx.

Valid and schema-violating requests for every operation, with a valid token, against the app on real
PostgreSQL and Kafka. The case count is printed (``-s``) and asserted, so a silently empty run fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from wegweiser.common.testing.fuzz import fuzz
from wegweiser.intake.app import build
from wegweiser.intake.settings import IntakeSettings

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION_AND_MODE = 15


def test_no_generated_request_makes_the_api_fail(
    intake_settings: Callable[..., IntakeSettings], authority: Any
) -> None:
    app = build(intake_settings(quota_authority_burst=100_000, quota_ags_burst=100_000))
    headers = authority(ags=("08111000", "08115003", "08121000"))
    cases, failures = fuzz(app, headers, EXAMPLES_PER_OPERATION_AND_MODE)
    print(f"schemathesis: {cases} generated requests")
    assert cases >= 100
    assert failures == []
