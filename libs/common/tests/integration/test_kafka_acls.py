"""The ACL table of ``wegweiser.common.kafka_acls``, enforced by a real broker.

A broker of its own (SCRAM-SHA-512 users, the KRaft StandardAuthorizer, deny unless allowed) gets the
topics and the table's ACLs from its plaintext super-user port, as the Strimzi operators would in
production. Then every principal logs in on the SCRAM port: statistics cannot read a personal topic,
partner A cannot touch partner B's topics or groups, and each service still produces its topics and
runs the consumer engine (retry topic included) for every consumer group it has.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupAuthorizationFailedError, TopicAuthorizationFailedError

from wegweiser.common import kafka_security, topics
from wegweiser.common.broker import create_broker
from wegweiser.common.engine import ConsumerEngine, EngineConfig, Record
from wegweiser.common.events.referrals import partner_feedback_topic, partner_referrals_topic
from wegweiser.common.kafka_acls import SERVICES, acl_table, partner_principal, prepare_broker
from wegweiser.common.kafka_security import client_options
from wegweiser.common.settings import consumer_group_id
from wegweiser.common.testing import infra

pytestmark = pytest.mark.integration

PARTNERS = ("a", "b")
TABLE = acl_table(partners=PARTNERS)
PASSWORDS = {user: f"{user}-secret" for user in TABLE}
PERSONAL = [spec.name for spec in topics.ALL if spec.personal_data] + [
    t(p).name for p in PARTNERS for t in (partner_referrals_topic, partner_feedback_topic)
]
# Short timeouts and back-off: every engine below retries each event once.
ENGINE = EngineConfig(session_timeout_ms=6_000, heartbeat_interval_ms=500, backoff_initial_s=0.1)
LOGIN_VARIABLES = (
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
)


@dataclass(frozen=True)
class Broker:
    admin: str  # plaintext port: super user
    scram: str  # SCRAM port: each principal gets its ACLs only


def producers() -> dict[str, list[str]]:
    """Principal -> the topics it writes: the services' own, referrals the partners' inboxes, each partner
    its feedback."""
    written = {service: [spec.name for spec in access.produces] for service, access in SERVICES.items()}
    written["referrals"] += [partner_referrals_topic(p).name for p in PARTNERS]
    written |= {partner_principal(p): [partner_feedback_topic(p).name] for p in PARTNERS}
    return written


@contextmanager
def login(user: str | None) -> Iterator[None]:
    """Kafka clients built inside log in as ``user`` (None: no login, for the plaintext port)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in LOGIN_VARIABLES:
            patch.delenv(name, raising=False)
        if user is not None:
            patch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
            patch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
            patch.setenv("KAFKA_SASL_USERNAME", user)
            patch.setenv("KAFKA_SASL_PASSWORD", PASSWORDS[user])
        kafka_security.kafka_security.cache_clear()
        try:
            yield
        finally:
            kafka_security.kafka_security.cache_clear()


@pytest.fixture(scope="module")
async def broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Broker]:
    state = tmp_path_factory.mktemp("acl-kafka")
    with infra.secured_kafka(state, users=PASSWORDS, port=infra.free_ports(3)) as (admin, scram):
        with login(None):
            await prepare_broker(admin, partners=PARTNERS)
        yield Broker(admin, scram)


@asynccontextmanager
async def consumer_of(broker: Broker, topic: str, *, group: str) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=broker.scram,
        group_id=group,
        auto_offset_reset="earliest",
        **client_options(),
    )
    try:
        await consumer.start()
        yield consumer
    finally:
        await consumer.stop()


async def read_one(broker: Broker, topic: str, *, group: str) -> bytes | None:
    async with consumer_of(broker, topic, group=group) as consumer:
        batch = await consumer.getmany(timeout_ms=15_000, max_records=1)
    return next((r.value for records in batch.values() for r in records), None)


async def publish(broker: Broker, topic: str, *, ce_id: str) -> None:
    """One event on ``topic`` through the producer the outbox relay uses (acks=all, idempotent)."""
    producer = create_broker(broker.scram, client_id="acl-test")
    await producer.start()
    try:
        headers = {"ce_id": ce_id, "ce_subject": f"subject-{ce_id}"}
        await producer.publish(ce_id.encode(), topic, key=b"08111000", headers=headers)
    finally:
        await producer.stop()


async def test_statistics_cannot_read_a_personal_topic(broker: Broker) -> None:
    with login("statistics"):
        for topic in PERSONAL:
            with pytest.raises(TopicAuthorizationFailedError):
                await read_one(broker, topic, group=consumer_group_id("statistics"))


async def test_partner_a_cannot_read_or_write_partner_b_topics_nor_use_its_groups(broker: Broker) -> None:
    with login("referrals"):
        await publish(broker, partner_referrals_topic("b").name, ce_id="for-b")
        await publish(broker, partner_referrals_topic("a").name, ce_id="for-a")
    with login(partner_principal("a")):
        with pytest.raises(TopicAuthorizationFailedError):
            await read_one(broker, partner_referrals_topic("b").name, group="partner-a-inbox")
        with pytest.raises(TopicAuthorizationFailedError):
            await publish(broker, partner_feedback_topic("b").name, ce_id="forged-by-a")
        with pytest.raises(GroupAuthorizationFailedError):
            await read_one(broker, partner_referrals_topic("a").name, group="partner-b-inbox")
        with pytest.raises(TopicAuthorizationFailedError):
            await read_one(broker, topics.ARRIVALS.name, group="partner-a-inbox")
        # ... while its own inbox, under a group of its own, works.
        assert await read_one(broker, partner_referrals_topic("a").name, group="partner-a-inbox") == b"for-a"
        await publish(broker, partner_feedback_topic("a").name, ce_id="answer-of-a")


async def run_engine(broker: Broker, *, group: str, topics: list[str], expected: set[str]) -> set[str]:
    """The services' consumer engine as ``group``; each event fails once, so it travels the retry topic too.

    Returns the event ids handled after their retry.
    """
    failed: set[str] = set()
    handled: set[str] = set()
    done = asyncio.Event()

    async def handle(record: Record) -> None:
        ce_id = str(record.ce_id)
        if ce_id not in failed:
            failed.add(ce_id)
            raise RuntimeError("first attempt fails on purpose")
        handled.add(ce_id)
        if expected <= handled:
            done.set()

    engine = ConsumerEngine(
        bootstrap_servers=broker.scram,
        group_id=group,
        topics=topics,
        handler=handle,
        config=ENGINE,
        kreis_of=lambda ags: ags[:5],
    )
    await engine.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=60)
    finally:
        await engine.stop()
    return handled


async def test_every_service_produces_and_consumes_its_own_topics_under_its_own_principal(
    broker: Broker,
) -> None:
    run = uuid.uuid4().hex[:8]
    event_of: dict[str, str] = {}
    for principal, written in producers().items():
        with login(principal):
            for topic in written:
                event_of[topic] = f"{run}-{topic}"
                await publish(broker, topic, ce_id=event_of[topic])

    for service, access in SERVICES.items():
        for consumer in access.consumes:
            group, read = consumer_group_id(consumer.group), consumer.sources(PARTNERS)
            expected = {event_of[topic] for topic in read}
            with login(service):
                handled = await run_engine(broker, group=group, topics=read, expected=expected)
            assert expected <= handled, f"{service} as {group}"

    # The autoscaler reads the committed offsets (consumer lag) and nothing else.
    with login("keda"):
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.scram, **client_options())
        await admin.start()
        try:
            lag_offsets = await admin.list_consumer_group_offsets(consumer_group_id("statistics"))
        finally:
            await admin.close()
        assert {tp.topic for tp in lag_offsets} >= {
            spec.name for spec in SERVICES["statistics"].consumes[0].topics
        }
        with pytest.raises(GroupAuthorizationFailedError):  # describe only: it cannot join a group
            await read_one(broker, topics.INTAKE_FACTS.name, group=consumer_group_id("statistics"))
