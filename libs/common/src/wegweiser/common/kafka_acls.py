"""Who may do what on Kafka: the one table of ACLs, per principal (docs/architecture.md).

One SCRAM principal per service and per partner. A service may write the topics it produces, read the
topics it consumes with its own consumer groups, and use those groups' retry and dead-letter topics;
statistics gets no personal topic, and a partner only its own two topics. The KafkaUsers in
``deploy/k8s`` are checked against this table (``tests/test_deployment_files.py``), and
``python -m wegweiser.common.kafka_acls`` creates the same ACLs on a broker (the local one of
``deploy/local/kafka.sh`` with ``WEGWEISER_KAFKA_ACLS=1``), where the integration tests prove them.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import CreateAclsRequest_v1, DescribeAclsRequest
from aiokafka.protocol.api import Request

from wegweiser.common import topics
from wegweiser.common.engine import retry_topics
from wegweiser.common.engine.config import EngineConfig
from wegweiser.common.engine.retry_topics import dlq_topic, retry_topic
from wegweiser.common.events.referrals import partner_feedback_topic, partner_referrals_topic
from wegweiser.common.kafka_security import client_options
from wegweiser.common.settings import DEFAULT_CONSUMER_GROUP_PREFIX, consumer_group_id

Operation = Literal["Read", "Write", "Describe", "DescribeConfigs"]
ResourceType = Literal["topic", "group"]

PARTNER_TOPIC_PREFIX = "wegweiser.partner."
"""Every partner's topics; referrals is the hub that writes their referrals and reads their feedback."""

PRODUCE: frozenset[Operation] = frozenset({"Write", "Describe"})
# DescribeConfigs: the engine reads its source's and its DLQ's retention at start-up (engine/retry_topics.py).
CONSUME: frozenset[Operation] = frozenset({"Read", "Describe", "DescribeConfigs"})
RETRY_DLQ: frozenset[Operation] = frozenset({"Read", "Write", "Describe", "DescribeConfigs"})
GROUP: frozenset[Operation] = frozenset({"Read", "Describe"})


@dataclass(frozen=True, slots=True)
class Grant:
    """Operations allowed on one topic or group, by exact name or by name prefix."""

    resource: ResourceType
    name: str
    operations: frozenset[Operation]
    prefix: bool = False

    def strimzi(self) -> dict[str, Any]:
        """The entry of a Strimzi KafkaUser's ``spec.authorization.acls``."""
        resource: dict[str, str] = {"type": self.resource, "name": self.name}
        if self.prefix:
            resource["patternType"] = "prefix"
        return {"resource": resource, "operations": sorted(self.operations)}


@dataclass(frozen=True, slots=True)
class Consumes:
    """One consumer group of a service (the name it gives ``ServiceSettings.consumer_group``)."""

    group: str
    topics: tuple[topics.TopicSpec, ...] = ()
    partner_feedback: bool = False  # every partner's feedback topic (granted by the partner prefix)

    def sources(self, partners: Iterable[str]) -> list[str]:
        """The topics this group reads, given the partners there are."""
        feedback = [partner_feedback_topic(p).name for p in partners] if self.partner_feedback else []
        return [spec.name for spec in self.topics] + feedback


@dataclass(frozen=True, slots=True)
class ServiceAccess:
    produces: tuple[topics.TopicSpec, ...] = ()
    consumes: tuple[Consumes, ...] = ()
    partner_hub: bool = False  # all partner topics, by prefix (they come and go at run time)


SERVICES: dict[str, ServiceAccess] = {
    "intake": ServiceAccess(
        produces=(topics.ARRIVALS, topics.INTAKE_FACTS, topics.INTAKE_PERSON_KEYS),
        consumes=(Consumes("intake-erasures", (topics.CASES,)),),  # case.erased: erase the arrival too
    ),
    "casework": ServiceAccess(
        produces=(topics.CASES, topics.REFERRAL_REQUESTS, topics.CASEWORK_PERSON_KEYS),
        consumes=(
            Consumes("casework", (topics.ARRIVALS,)),
            Consumes("casework-person-keys", (topics.INTAKE_PERSON_KEYS,)),  # to open arrivals' persons
            Consumes("casework-referral-status", (topics.REFERRAL_STATUS,)),
            Consumes("casework-catalogue", (topics.REFERRAL_CATALOGUE,)),
        ),
    ),
    "referrals": ServiceAccess(
        produces=(topics.REFERRAL_STATUS, topics.REFERRAL_CATALOGUE),
        consumes=(
            Consumes("referrals", (topics.REFERRAL_REQUESTS, topics.CASES)),
            Consumes("referrals-person-keys", (topics.CASEWORK_PERSON_KEYS,)),  # to open requests' persons
            # The feedback topics and their retry/DLQ topics are covered by the partner prefix.
            Consumes("referrals-feedback", partner_feedback=True),
        ),
        partner_hub=True,
    ),
    "statistics": ServiceAccess(
        produces=(topics.INDICATORS,),
        consumes=(Consumes("statistics", (topics.INTAKE_FACTS, topics.CASES, topics.REFERRAL_STATUS)),),
    ),
}
"""Per service: what it produces and which groups consume what (docs/architecture.md's topic table)."""

LAG_READER = "keda"
"""The autoscaler: may describe topics and groups to read consumer lag, nothing else."""


def partner_principal(partner_id: str) -> str:
    return f"partner-{partner_id}"


def service_grants(service: str, *, group_prefix: str = DEFAULT_CONSUMER_GROUP_PREFIX) -> list[Grant]:
    access = SERVICES[service]
    grants = [Grant("topic", spec.name, PRODUCE) for spec in access.produces]
    for consumer in access.consumes:
        group = consumer_group_id(consumer.group, group_prefix)
        grants.append(Grant("group", group, GROUP))
        for spec in consumer.topics:
            grants.append(Grant("topic", spec.name, CONSUME))
            grants += [
                Grant("topic", name, RETRY_DLQ)
                for name in (retry_topic(spec.name, group), dlq_topic(spec.name, group))
            ]
    if access.partner_hub:
        grants.append(Grant("topic", PARTNER_TOPIC_PREFIX, RETRY_DLQ, prefix=True))
    return merged(grants)


def partner_grants(partner_id: str) -> list[Grant]:
    """Read its referrals, write its feedback, consume as group ``partner-<id>`` or ``partner-<id>-...``.

    Not the bare prefix ``partner-<id>``: partner ``a`` would then join the groups of partner ``ab``.
    """
    group = partner_principal(partner_id)
    return [
        Grant("topic", partner_referrals_topic(partner_id).name, frozenset({"Read", "Describe"})),
        Grant("topic", partner_feedback_topic(partner_id).name, PRODUCE),
        Grant("group", group, GROUP),
        Grant("group", f"{group}-", GROUP, prefix=True),
    ]


def lag_reader_grants(*, group_prefix: str = DEFAULT_CONSUMER_GROUP_PREFIX) -> list[Grant]:
    return [
        Grant("topic", "wegweiser.", frozenset({"Describe"}), prefix=True),
        Grant("group", f"{group_prefix}-", frozenset({"Describe"}), prefix=True),
    ]


def acl_table(
    *, partners: Iterable[str] = (), group_prefix: str = DEFAULT_CONSUMER_GROUP_PREFIX
) -> dict[str, list[Grant]]:
    """Principal (SCRAM user name) -> its grants: every service, the lag reader, the given partners."""
    table = {service: service_grants(service, group_prefix=group_prefix) for service in SERVICES}
    table[LAG_READER] = lag_reader_grants(group_prefix=group_prefix)
    for partner_id in partners:
        table[partner_principal(partner_id)] = partner_grants(partner_id)
    return table


def allowed(grants: Iterable[Grant], resource: ResourceType, name: str) -> frozenset[Operation]:
    """What the grants allow on one topic or group, as the broker matches them (exact name or prefix)."""
    operations: frozenset[Operation] = frozenset()
    for grant in grants:
        if grant.resource == resource and (
            name.startswith(grant.name) if grant.prefix else name == grant.name
        ):
            operations |= grant.operations
    return operations


def merged(grants: Iterable[Grant]) -> list[Grant]:
    """One grant per resource, with the union of its operations (a topic consumed twice, say)."""
    by_resource: dict[tuple[ResourceType, str, bool], frozenset[Operation]] = {}
    for grant in grants:
        key = (grant.resource, grant.name, grant.prefix)
        by_resource[key] = by_resource.get(key, frozenset()) | grant.operations
    return [Grant(kind, name, ops, prefix) for (kind, name, prefix), ops in by_resource.items()]


# --- creating them on a broker ---------------------------------------------------------------------

# Kafka protocol codes (org.apache.kafka.common.resource / .acl).
_RESOURCE_TYPE = {"topic": 2, "group": 3}
_PATTERN_LITERAL, _PATTERN_PREFIXED = 3, 4
_OPERATION = {"Read": 3, "Write": 4, "Describe": 8, "DescribeConfigs": 10}
_ALLOW = 3
_ANY = 1

Binding = tuple[int, str, int, str, str, int, int]


class _CreateAcls(Request[CreateAclsRequest_v1]):
    """CreateAcls with many bindings in one request.

    aiokafka 0.14 has the protocol structs but no admin method for ACLs; Kafka's ``AclCommand`` needs a
    JVM start per principal and operation set (about 5 s each here, minutes for the whole table).
    """

    API_KEY = 30

    def __init__(self, creations: list[Binding]) -> None:
        self._creations = creations

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class(self._creations)


def bindings(table: Mapping[str, Sequence[Grant]]) -> list[Binding]:
    """One ACL binding per (principal, resource, operation), allowed from any host."""
    return [
        (
            _RESOURCE_TYPE[grant.resource],
            grant.name,
            _PATTERN_PREFIXED if grant.prefix else _PATTERN_LITERAL,
            f"User:{principal}",
            "*",
            _OPERATION[operation],
            _ALLOW,
        )
        for principal, grants in table.items()
        for grant in grants
        for operation in sorted(grant.operations)
    ]


class AclCreationFailed(RuntimeError):
    pass


async def create_acls(
    bootstrap_servers: str, table: Mapping[str, Sequence[Grant]], *, timeout_s: float = 30
) -> int:
    """Create the table's ACLs and wait until the broker enforces them; returns how many.

    Existing ACLs stay (creating one twice is a no-op). Needs a principal that may alter the cluster's
    ACLs: a super user, or the plaintext port of the local broker.
    """
    creations = bindings(table)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_options())
    await admin.start()
    try:
        response = await admin._send_request(_CreateAcls(creations))
        failed = [
            (c, code, msg)
            for c, (code, msg) in zip(creations, response.creation_responses, strict=True)
            if code
        ]
        if failed:
            raise AclCreationFailed(f"{len(failed)} of {len(creations)} ACLs refused, first: {failed[0]}")
        await _wait_until_enforced(admin, set(creations), timeout_s=timeout_s)
    finally:
        await admin.close()
    return len(creations)


async def _wait_until_enforced(admin: AIOKafkaAdminClient, wanted: set[Binding], *, timeout_s: float) -> None:
    """The controller has committed the ACLs; the broker applies them a moment later, and until then a
    client is refused (a fresh idempotent producer, for one, with a cluster authorization error)."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = await admin._send_request(DescribeAclsRequest(_ANY, None, _ANY, None, None, _ANY, _ANY))
        present = {
            (resource_type, name, pattern, *acl)
            for resource_type, name, pattern, acls in response.resources
            for acl in acls
        }
        if wanted <= present:
            return
        if time.monotonic() > deadline:
            raise AclCreationFailed(f"{len(wanted - present)} ACLs not enforced after {timeout_s}s")
        await asyncio.sleep(0.2)


async def prepare_broker(
    bootstrap_servers: str, *, partners: Sequence[str] = (), group_prefix: str = DEFAULT_CONSUMER_GROUP_PREFIX
) -> int:
    """What the Strimzi operators do in production, for a local broker: every topic (the partners' too),
    the retry and dead-letter topics of every consumer group, and the table's ACLs.

    The services may not create topics (``WEGWEISER_CREATE_TOPICS=false``); run this as a super user.
    Returns the number of ACLs.
    """
    partner_topics = tuple(t(p) for p in partners for t in (partner_referrals_topic, partner_feedback_topic))
    await topics.ensure_topics(bootstrap_servers, (*topics.ALL, *partner_topics))
    for access in SERVICES.values():
        for consumer in access.consumes:
            if sources := consumer.sources(partners):
                await retry_topics.ensure_topics(
                    bootstrap_servers=bootstrap_servers,
                    topics=sources,
                    group=consumer_group_id(consumer.group, group_prefix),
                    config=EngineConfig(),
                )
    return await create_acls(bootstrap_servers, acl_table(partners=partners, group_prefix=group_prefix))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m wegweiser.common.kafka_acls",
        description="Create the topics, retry/DLQ topics and ACLs of wegweiser.common.kafka_acls on a broker "
        "(as a super user).",
    )
    parser.add_argument("--bootstrap-server", default="127.0.0.1:9092")
    parser.add_argument("--partner", action="append", default=[], help="a partner id (repeatable)")
    parser.add_argument("--group-prefix", default=DEFAULT_CONSUMER_GROUP_PREFIX)
    args = parser.parse_args(argv)
    count = asyncio.run(
        prepare_broker(args.bootstrap_server, partners=args.partner, group_prefix=args.group_prefix)
    )
    print(f"topics and {count} ACLs on {args.bootstrap_server}")


if __name__ == "__main__":
    main()
