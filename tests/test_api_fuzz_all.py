"""Property-based fuzzing of all four services from their OpenAPI documents (schemathesis): never a 5xx.

Each service's app runs in-process (ASGI) on the real PostgreSQL and Kafka, and every generated request
carries a valid development token with the roles and claims that service checks, so requests reach the
handlers. Valid and schema-violating requests alike must end in a 2xx/3xx, a 4xx problem+json, or (for
HTML routes) a German error page. Together the four runs make at least 10,000 requests; each run's count
is printed (``-s``) and asserted, so a silently small run fails. Slow: ``./dev test -m slow``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI

from wegweiser.casework.app import build as build_casework
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.common import devtokens
from wegweiser.common.testing.fuzz import fuzz, is_problem_json
from wegweiser.intake.app import build as build_intake
from wegweiser.intake.settings import IntakeSettings
from wegweiser.referrals.app import build as build_referrals
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.statistics.app import build as build_statistics
from wegweiser.statistics.settings import StatisticsSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOTAL_REQUESTS = 10_000
# Hypothesis examples per operation and mode, and the requests each service's run must reach (measured
# runs made a little more; derandomized, so a count only changes with the schema). Statistics has few
# operations with small inputs: Hypothesis runs out of distinct cases there.
EXAMPLES = {"intake": 168, "casework": 200, "referrals": 148, "statistics": 126}
REQUESTS_PER_SERVICE = {"intake": 4_300, "casework": 2_200, "referrals": 3_000, "statistics": 500}
assert sum(REQUESTS_PER_SERVICE.values()) == TOTAL_REQUESTS

# Every role and claim each service checks, so a request is refused for its content, not its caller.
CLAIMS: dict[str, dict[str, Any]] = {
    "intake": {
        "roles": ["reception_authority"],
        "authority_id": "uab-08111",
        "ags": ["08111000", "08115003", "08121000"],
    },
    "casework": {
        "roles": ["counsellor", "supervisor", "admin"],
        "provider_id": "kreis-08111",
        "ags": ["08111000"],
    },
    "referrals": {
        "roles": ["counsellor", "supervisor", "admin", "partner"],
        "provider_id": "kreis-08111",
        "partner_id": "partner-1",
        "ags": ["08111000"],
    },
    "statistics": {"roles": ["statistics_reader", "admin"]},
}


def _app(service: str, env: dict[str, Any]) -> FastAPI:
    """The service's app with quotas out of the way, so volume alone is never the answer."""
    if service == "intake":
        return build_intake(IntakeSettings(quota_authority_burst=100_000, quota_ags_burst=100_000, **env))
    if service == "casework":
        return build_casework(CaseworkSettings(**env))
    if service == "referrals":
        return build_referrals(ReferralsSettings(seed_catalogue=False, **env))
    return build_statistics(StatisticsSettings(publish_interval_s=3600, **env))


def _headers(service: str, key_dir: Path) -> dict[str, str]:
    claims = dict(CLAIMS[service])
    token = devtokens.mint(subject=f"fuzz-{service}", roles=claims.pop("roles"), key_dir=key_dir, **claims)
    return {"Authorization": f"Bearer {token}"}


def _acceptable_refusal(case: schemathesis.Case, response: Any) -> bool:
    """A 4xx is problem+json, or an error page on an HTML route: German unless ``?lang=`` chose another."""
    if is_problem_json(case, response):
        return True
    if "text/html" not in str(response.headers.get("content-type", [""])):
        return False
    chosen = (case.query or {}).get("lang")
    return 'lang="de"' in response.text or (chosen not in (None, "de") and "<html lang=" in response.text)


@pytest.mark.parametrize("service", REQUESTS_PER_SERVICE)
def test_no_generated_request_makes_a_service_fail(
    service: str, service_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    app = _app(service, {**service_env, "database_url": database_url})
    cases, failures = fuzz(
        app, _headers(service, dev_keys), EXAMPLES[service], acceptable=_acceptable_refusal
    )
    print(f"schemathesis {service}: {cases} generated requests")
    assert cases >= REQUESTS_PER_SERVICE[service]
    assert failures == []
