"""The four services as processes on the real broker and PostgreSQL, for the black-box tests here.

``own_kafka`` is a plaintext broker, or (param ``acls``) one that enforces SCRAM logins and the ACL table
of ``wegweiser.common.kafka_acls``, where each service logs in as its own principal (as in production).
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from wegweiser.common import kafka_acls
from wegweiser.common.devstack import ServiceProcesses
from wegweiser.common.testing.infra import (
    free_port,
    free_ports,
    fresh_database,
    isolated_kafka,
    secured_kafka,
)
from wegweiser.referrals.seed import example_partners

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
