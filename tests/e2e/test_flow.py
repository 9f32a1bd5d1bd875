"""Black box: the four services as processes on the real broker and PostgreSQL, driven over HTTP.

Twice: on a plaintext broker, and on a broker that enforces SCRAM logins and the ACL table of
``wegweiser.common.kafka_acls``, where each service logs in as its own principal (as in production).
"""

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from wegweiser.common import devtokens, kafka_acls
from wegweiser.common.devstack import ServiceProcesses
from wegweiser.common.testing.infra import (
    free_port,
    free_ports,
    fresh_database,
    isolated_kafka,
    secured_kafka,
)
from wegweiser.referrals.seed import example_partners

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

SERVICES = ("intake", "casework", "referrals", "statistics")


@pytest.fixture
async def databases(postgres_url: str) -> AsyncIterator[dict[str, str]]:
    async with AsyncExitStack() as stack:
        yield {s: await stack.enter_async_context(fresh_database(postgres_url)) for s in SERVICES}


@dataclass(frozen=True)
class Kafka:
    bootstrap_servers: str
    env_of: dict[str, dict[str, str]] = field(default_factory=dict)  # each service's login


@pytest.fixture
def group_prefix() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


@pytest.fixture(params=["plaintext", "acls"])
def own_kafka(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, group_prefix: str
) -> Iterator[Kafka]:
    """Counting assertions need a broker that holds nothing but this test's events."""
    if request.param == "plaintext":
        with isolated_kafka(tmp_path_factory.mktemp("kafka-state")) as servers:
            yield Kafka(servers)
        return
    passwords = {service: uuid.uuid4().hex for service in SERVICES}
    with secured_kafka(tmp_path_factory.mktemp("acl-kafka"), users=passwords, port=free_ports(3)) as (
        admin,
        scram,
    ):
        # What Strimzi does in production: topics (the seeded Kafka partners' too) and ACLs, as a super user.
        partners = [p.partner_id for p in example_partners() if p.delivery == "kafka"]
        asyncio.run(kafka_acls.prepare_broker(admin, partners=partners, group_prefix=group_prefix))
        yield Kafka(
            scram,
            {
                service: {
                    "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                    "KAFKA_SASL_USERNAME": service,
                    "KAFKA_SASL_PASSWORD": password,
                    "WEGWEISER_CREATE_TOPICS": "false",
                }
                for service, password in passwords.items()
            },
        )


@pytest.fixture
def stack(
    own_kafka: Kafka, dev_keys: Path, databases: dict[str, str], tmp_path: Path, group_prefix: str
) -> Iterator[ServiceProcesses]:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": own_kafka.bootstrap_servers,
        "AUTH_JWKS_URL": (dev_keys / "jwks.json").as_uri(),
        "WEGWEISER_CONSUMER_GROUP_PREFIX": group_prefix,
        "STATISTICS_PUBLISH_INTERVAL_S": "1",
        **{f"{s.upper()}_DATABASE_URL": url for s, url in databases.items()},
    }
    processes = ServiceProcesses(
        env=env, env_of=own_kafka.env_of, ports={s: free_port() for s in SERVICES}, log_dir=tmp_path / "logs"
    )
    try:
        processes.start()
        processes.wait_ready()
        yield processes
    finally:
        processes.stop()


def bearer(dev_keys: Path, role: str, **claims: object) -> dict[str, str]:
    return {
        "Authorization": "Bearer "
        + devtokens.mint(subject=f"e2e-{role}", roles=[role], key_dir=dev_keys, **claims)
    }


def poll(fetch: Callable[[], object], *, timeout_s: float = 60, what: str) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := fetch():
            return result
        time.sleep(0.3)
    raise AssertionError(f"{what} not reached in {timeout_s}s")


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
