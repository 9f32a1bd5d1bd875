"""Black box: the four services as processes on the real broker and PostgreSQL, driven over HTTP.

Twice: on a plaintext broker, and on a broker that enforces SCRAM logins and the ACL table of
``wegweiser.common.kafka_acls``, where each service logs in as its own principal (as in production).
"""

import datetime as dt
import uuid
from pathlib import Path

import httpx
import pytest

from wegweiser.common.devstack import ServiceProcesses
from wegweiser.common.testing.apps import bearer, poll

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_an_arrival_becomes_a_case_whose_consultations_reach_the_indicator(
    stack: ServiceProcesses, dev_keys: Path
) -> None:
    authority = bearer(dev_keys, "reception_authority", authority_id="uab-08111", ags=["08111000"])
    counsellor = bearer(dev_keys, "counsellor", provider_id="kreis-08111", ags=["08111000"])
    reader = bearer(dev_keys, "statistics_reader")
    today = dt.date.today().isoformat()

    arrival = httpx.post(
        f"{stack.url('intake')}/v1/arrivals",
        headers=authority,
        json={
            "authority_reference": f"E2E-{uuid.uuid4().hex[:8]}",
            "ags": "08111000",
            "allocation_date": today,
            "persons": [{"role": "head", "family_name": "Haddad", "given_names": "Rania"}],
        },
    )
    assert arrival.status_code == 201, arrival.text

    def case() -> dict[str, str] | None:
        cases = httpx.get(f"{stack.url('casework')}/v1/cases?ags=08111000", headers=counsellor).json()
        return next((c for c in cases if c["arrival_id"] == arrival.json()["arrival_id"]), None)

    opened = poll(case, what="case opened from the arrival")
    assert isinstance(opened, dict)

    indicator = f"{stack.url('statistics')}/v1/indicators/consultations?ags=08111000"
    # Statistics builds its first projection from the topics' history before it answers (503 until then).
    first = poll(
        lambda: (r := httpx.get(indicator, headers=reader)).status_code == 200 and r.json(), what="ready"
    )
    assert isinstance(first, dict) and first["value"] in (0, ".")  # nothing yet (or below 5)
    for n in range(6):
        response = httpx.post(
            f"{stack.url('casework')}/v1/cases/{opened['case_id']}/consultations",
            headers=counsellor,
            json={
                "held_on": today,
                "duration_minutes": 30 + n,
                "type": "folgeberatung",
                "channel": "telefon",
            },
        )
        assert response.status_code == 201, response.text

    counted = poll(
        lambda: (v := httpx.get(indicator, headers=reader).json())["value"] == 6 and v, what="6 counted"
    )
    assert counted == {
        "indicator": "consultations",
        "region": "08111000",
        "period": "all",
        "value": 6,
        "suppressed": False,
    }

    assert httpx.get(f"{stack.url('referrals')}/health/ready").status_code == 200
    assert httpx.get(indicator).status_code == 401
    assert httpx.get(f"{stack.url('casework')}/v1/cases").status_code == 401
