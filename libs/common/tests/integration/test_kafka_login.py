"""Production's Kafka login, for real: a broker whose listener demands SASL/SCRAM-SHA-512.

The services' producer (faststream), the topic check at start-up and the consumer engine all take
their login from ``KAFKA_*`` settings; with the right password an event makes the whole trip, with a
wrong one start-up fails instead of running unauthenticated.
"""

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from aiokafka.errors import KafkaConnectionError

from wegweiser.common import kafka_security
from wegweiser.common.broker import create_broker
from wegweiser.common.engine import ConsumerEngine, EngineConfig, Record
from wegweiser.common.testing.infra import scram_kafka
from wegweiser.common.topics import TopicSpec, ensure_topics

pytestmark = pytest.mark.integration

USER, PASSWORD = "casework", "a-scram-secret"


@pytest.fixture(scope="module")
def scram_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with scram_kafka(tmp_path_factory.mktemp("scram-kafka"), user=USER, password=PASSWORD) as servers:
        yield servers


@pytest.fixture
def login(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set the KAFKA_* login for this test only (the process reads it once, so reset the cache)."""
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", USER)
    kafka_security.kafka_security.cache_clear()
    yield monkeypatch
    kafka_security.kafka_security.cache_clear()


async def test_an_event_travels_producer_to_engine_over_scram(
    scram_bootstrap: str, login: pytest.MonkeyPatch
) -> None:
    login.setenv("KAFKA_SASL_PASSWORD", PASSWORD)
    topic = TopicSpec(f"test.login.{uuid.uuid4().hex[:8]}", 60_000, personal_data=False, partitions=1)
    assert await ensure_topics(scram_bootstrap, (topic,)) == [topic.name]

    broker = create_broker(scram_bootstrap, client_id="login-test")
    await broker.start()
    try:
        await broker.publish(
            b"{}", topic.name, key=b"08111000", headers={"ce_id": "e-1", "ce_subject": "case-1"}
        )
    finally:
        await broker.stop()

    handled: asyncio.Queue[Record] = asyncio.Queue()

    async def handle(record: Record) -> None:
        await handled.put(record)

    engine = ConsumerEngine(
        bootstrap_servers=scram_bootstrap,
        group_id=f"login-{uuid.uuid4().hex[:8]}",
        topics=[topic.name],
        handler=handle,
        config=EngineConfig(session_timeout_ms=6_000, heartbeat_interval_ms=500),
        kreis_of=lambda ags: ags[:5],
    )
    await engine.start()
    try:
        record = await asyncio.wait_for(handled.get(), timeout=60)
    finally:
        await engine.stop()
    assert (record.key, record.ce_id) == ("08111000", "e-1")


async def test_a_wrong_password_stops_start_up(
    scram_bootstrap: str, login: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    login.setenv("KAFKA_SASL_PASSWORD", "not-the-password")
    topic = TopicSpec(f"test.login.{uuid.uuid4().hex[:8]}", 60_000, personal_data=False, partitions=1)
    with pytest.raises(KafkaConnectionError):
        await ensure_topics(scram_bootstrap, (topic,))
    assert "SaslAuthenticationFailed" in caplog.text  # refused for the password, not unreachable
