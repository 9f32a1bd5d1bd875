"""The ACL table says what docs/architecture.md and §6 say: producers write, consumers read, nobody more."""

from wegweiser.common import events, topics
from wegweiser.common.events.referrals import partner_feedback_topic, partner_referrals_topic
from wegweiser.common.kafka_acls import (
    LAG_READER,
    SERVICES,
    acl_table,
    allowed,
    bindings,
    partner_principal,
)
from wegweiser.common.settings import consumer_group_id

TABLE = acl_table(partners=["a", "b"])
PARTNER_TOPICS = [t(p).name for p in ("a", "b") for t in (partner_referrals_topic, partner_feedback_topic)]


def test_every_event_s_producer_may_write_its_topic() -> None:
    for event in events.REGISTRY.values():
        topic = event.topic.name.replace("{partner_id}", "a")
        producer = partner_principal("a") if event.source == "partner" else event.source
        assert "Write" in allowed(TABLE[producer], "topic", topic), f"{producer} cannot write {topic}"


def test_only_the_producer_of_a_declared_topic_may_write_it() -> None:
    for spec in topics.ALL:
        writers = {p for p, grants in TABLE.items() if "Write" in allowed(grants, "topic", spec.name)}
        assert writers == {s for s, access in SERVICES.items() if spec in access.produces}, spec.name


def test_statistics_gets_no_personal_topic() -> None:
    personal = [spec.name for spec in topics.ALL if spec.personal_data] + PARTNER_TOPICS
    for topic in personal:
        assert not allowed(TABLE["statistics"], "topic", topic), topic


def test_a_partner_gets_its_two_topics_and_its_groups_only() -> None:
    grants = TABLE[partner_principal("a")]
    assert allowed(grants, "topic", partner_referrals_topic("a").name) == {"Read", "Describe"}
    assert allowed(grants, "topic", partner_feedback_topic("a").name) == {"Write", "Describe"}
    assert allowed(grants, "group", "partner-a-inbox") == {"Read", "Describe"}
    others = [spec.name for spec in topics.ALL] + [
        partner_referrals_topic("b").name,
        partner_feedback_topic("b").name,
    ]
    for topic in others:
        assert not allowed(grants, "topic", topic), topic
    assert allowed(grants, "group", "partner-a") == {"Read", "Describe"}
    assert not allowed(grants, "group", "partner-b-inbox")
    assert not allowed(grants, "group", "partner-ab-inbox"), "another partner whose id starts with a"
    assert not allowed(grants, "group", consumer_group_id("referrals"))


def test_only_referrals_reaches_the_partner_topics() -> None:
    for principal, grants in TABLE.items():
        if principal in ("referrals", LAG_READER) or principal.startswith("partner-"):
            continue
        for topic in PARTNER_TOPICS:
            assert not allowed(grants, "topic", topic), f"{principal}: {topic}"


def test_the_lag_reader_only_describes() -> None:
    assert {op for grant in TABLE[LAG_READER] for op in grant.operations} == {"Describe"}


def test_one_binding_per_principal_resource_and_operation() -> None:
    created = bindings(TABLE)
    assert len(created) == len(set(created)) == sum(len(g.operations) for gs in TABLE.values() for g in gs)
