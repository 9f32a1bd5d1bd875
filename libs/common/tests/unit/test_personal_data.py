"""Sealed personal fields: nothing personal readable in the record, opened only with the person's key."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Sequence

import pytest

from wegweiser.common import events
from wegweiser.common.dispatch import KEY_WAITS_S, EventDispatcher
from wegweiser.common.engine import ConsumerEngine, EngineConfig, Record
from wegweiser.common.envelope import encode
from wegweiser.common.key_copies import KeptTogether, KeysNotKept, key_copy_engine, key_copy_handlers
from wegweiser.common.personal_data import (
    SEALED,
    KeyCopy,
    UnreadablePersonalData,
    key_ids,
    open_sealed,
    seal,
    unwrap,
    wrap,
    wrapping_key,
)
from wegweiser.common.testing.fakes import FakePersonKeys, FakeUnitOfWork


def arrival() -> events.ArrivalRegistered:
    return events.ArrivalRegistered(
        ags="08111000",
        arrival_id=uuid.uuid4(),
        authority_id="uab-08111",
        authority_reference="UAB-1",
        allocation_date=dt.date(2026, 12, 1),
        persons=(
            events.ArrivedPerson(
                person_id=uuid.uuid4(),
                role="head",
                family_name="Németh",
                given_names="Ágnes",
                date_of_birth="1991-07-04",
                nationalities=("HU",),
                phone="+49 711 123456",
            ),
            events.ArrivedPerson(
                person_id=uuid.uuid4(), role="child", family_name="Németh", given_names="Bence"
            ),
        ),
    )


class Keys:
    """A data-key source that remembers what it issued, as a key table does."""

    def __init__(self) -> None:
        self.issued: dict[str, tuple[str, bytes]] = {}

    def __call__(self, person: str) -> tuple[str, bytes]:
        kid, key = str(uuid.uuid4()), uuid.uuid4().bytes + uuid.uuid4().bytes
        self.issued[kid] = (person, key)
        return kid, key

    def table(self) -> dict[str, bytes]:
        return {kid: key for kid, (_, key) in self.issued.items()}


def test_an_arrival_on_the_wire_names_no_one_and_opens_to_the_same_event() -> None:
    event, keys = arrival(), Keys()
    wire = json.dumps(seal(event.model_dump(mode="json"), event.personal, keys)).encode()

    for secret in ("Németh", "N\\u00e9meth", "Ágnes", "Bence", "1991-07-04", "+49 711", "nationalities"):
        assert secret.encode() not in wire  # (no short secrets: random ciphertext may hold any 2 letters)
    payload = json.loads(wire)
    assert [p["role"] for p in payload["persons"]] == ["head", "child"]  # routing fields stay readable
    assert {person for person, _ in keys.issued.values()} == {
        f"{event.arrival_id}/{p.person_id}" for p in event.persons
    }
    assert key_ids(payload) == set(keys.issued)

    assert events.ArrivalRegistered.model_validate(open_sealed(payload, keys.table())) == event


def test_without_its_key_a_sealed_block_stays_shut_and_a_wrong_key_is_refused() -> None:
    event, keys = arrival(), Keys()
    payload = seal(event.model_dump(mode="json"), event.personal, keys)
    one_key_shredded = dict(list(keys.table().items())[1:])
    with pytest.raises(UnreadablePersonalData):
        open_sealed(json.loads(json.dumps(payload)), one_key_shredded)
    wrong = {kid: bytes(32) for kid in keys.issued}
    with pytest.raises(UnreadablePersonalData):
        open_sealed(json.loads(json.dumps(payload)), wrong)


def test_a_referral_request_seals_the_person_and_the_note_under_a_key_scoped_by_its_case() -> None:
    case_id = uuid.uuid4()
    request = events.ReferralRequested(
        ags="08111000",
        referral_id=uuid.uuid4(),
        case_id=case_id,
        provider_id="kreis-08111",
        programme="integrationskurs",
        requested_on=dt.date(2026, 12, 1),
        consent=events.ConsentScope(
            consent_id=uuid.uuid4(), programme="integrationskurs", granted_on=dt.date(2026, 12, 1)
        ),
        person=events.ReferralPerson(person_pseudonym="p-1", family_name="Haddad", email="r@example.org"),
        note_for_partner="Rania braucht Kinderbetreuung",
    )
    keys = Keys()
    payload = seal(request.model_dump(mode="json"), request.personal, keys)
    wire = json.dumps(payload)
    assert "Haddad" not in wire and "Rania" not in wire and "example.org" not in wire
    assert payload["person"]["person_pseudonym"] == "p-1" and SEALED in payload
    assert {person for person, _ in keys.issued.values()} == {f"{case_id}/p-1"}
    assert events.ReferralRequested.model_validate(open_sealed(payload, keys.table())) == request


def test_a_wrapped_key_opens_only_with_the_wrapping_key_and_its_own_id() -> None:
    kek, key = wrapping_key("a-wrapping-secret-of-the-platform"), bytes(range(32))
    wrapped = wrap(kek, "kid-1", key)
    assert unwrap(kek, "kid-1", wrapped) == key
    with pytest.raises(UnreadablePersonalData):
        unwrap(kek, "kid-2", wrapped)
    with pytest.raises(UnreadablePersonalData):
        unwrap(wrapping_key("another-platform-secret"), "kid-1", wrapped)


def test_exactly_the_events_of_personal_topics_seal_and_their_plans_name_real_fields() -> None:
    sealing = {cls for cls in events.REGISTRY.values() if cls.personal}
    assert sealing == {events.ArrivalRegistered, events.ArrivalCorrected, events.ReferralRequested}
    for cls in sealing:
        assert cls.topic.personal_data, cls
        for where in cls.personal:
            assert where.at is None or where.at in cls.model_fields, (cls, where)
            assert where.scope in cls.model_fields, (cls, where)


def sealed_record(event: events.ArrivalRegistered, keys: Keys) -> Record:
    """The record intake's relay would send for ``event``, sealed with keys from ``keys``."""
    sealed = json.dumps(seal(event.model_dump(mode="json"), event.personal, keys)).encode()
    return Record("t", 0, 7, event.key(), sealed, encode(event).headers, 0, 1, "t", 0, 7)


async def test_a_record_before_its_key_waits_without_holding_the_only_database_slot() -> None:
    """The key comes on another topic, stored by another consumer that needs a database slot as well:
    a handler sleeping on the slot while it waits would keep the key out until it gave up."""
    event, issued = arrival(), Keys()
    record = sealed_record(event, issued)
    uow, slots, handled = FakeUnitOfWork(), asyncio.Semaphore(1), []

    async def handle(opened: events.Event, envelope: object, _: object) -> None:
        handled.append(opened)

    dispatcher = EventDispatcher(
        group="g", handlers={events.ArrivalRegistered: handle}, unit_of_work=lambda: uow, database_slots=slots
    )

    async def key_consumer() -> None:
        await asyncio.sleep(0.05)  # the key arrives while the record waits for it
        async with slots:
            for kid, (person, key) in issued.issued.items():
                await uow.keys.keep_issued([KeyCopy(kid=kid, owner="intake", person=person, key=key)])

    await asyncio.gather(dispatcher(record), key_consumer())
    assert handled == [event]


async def test_a_record_waiting_for_its_key_looks_again_as_soon_as_this_process_stored_the_key() -> None:
    """Not at its next pause: its waits double, so it would see a key stored at 0.2 s only at 0.31 s."""
    event, issued = arrival(), Keys()
    record = sealed_record(event, issued)
    uow, handled_at = FakeUnitOfWork(), []
    loop = asyncio.get_running_loop()

    async def handle(opened: events.Event, envelope: object, _: object) -> None:
        handled_at.append(loop.time())

    arrivals = EventDispatcher(
        group="a", handlers={events.ArrivalRegistered: handle}, unit_of_work=lambda: uow
    )
    keys = EventDispatcher(
        group="k", handlers=key_copy_handlers("intake"), unit_of_work=lambda: uow, inbox=False
    )

    async def key_consumer() -> float:
        await asyncio.sleep(0.2)
        for kid, (person, key) in issued.issued.items():
            wrapped = wrap(uow.key_wrapping_key, kid, key)
            encoded = encode(events.IntakePersonKeyIssued(kid=kid, person=person, wrapped_key=wrapped))
            await keys(Record("k", 0, 1, kid, encoded.value, encoded.headers, 0, 1, "k", 0, 1))
        return loop.time()

    _, stored_at = await asyncio.gather(arrivals(record), key_consumer())
    assert sum(KEY_WAITS_S[:4]) < 0.2 < sum(KEY_WAITS_S[:5]) - 0.1  # the pause it would wait out
    assert handled_at and handled_at[0] - stored_at < 0.05


async def test_the_key_copies_never_hold_a_municipality_back_when_the_loop_runs_late() -> None:
    """Every sealed record of a town waits for its keys: the key-copy group stores them at full pace
    while the event loop runs late (a restart's catch-up on a busy machine), where other groups hold
    back a town with a backlog."""

    def engine(config: EngineConfig) -> ConsumerEngine:
        engine = ConsumerEngine(
            bootstrap_servers="127.0.0.1:1",
            group_id="g",
            topics=["t"],
            handler=lambda record: asyncio.sleep(0),
            config=config,
        )
        engine.lateness.sample(500.0)
        return engine

    assert engine(EngineConfig())._late()
    assert not engine(key_copy_engine(EngineConfig()))._late()


class FirstStatementWaits(FakePersonKeys):
    """Key copies whose first statement lasts until ``done`` is set; ``fail`` makes the others fail."""

    def __init__(self) -> None:
        super().__init__()
        self.done, self.fail = asyncio.Event(), False

    async def keep_issued(self, copies: Sequence[KeyCopy]) -> None:
        if not self.statements:
            self.statements.append(0)
            await self.done.wait()
        elif self.fail:
            raise ConnectionError("database away")
        await super().keep_issued(copies)


def key_copies(n: int) -> list[KeyCopy]:
    return [KeyCopy(kid=f"k{i}", owner="intake", person=f"arrivals/a/{i}", key=bytes(32)) for i in range(n)]


async def test_keys_that_come_while_one_is_stored_are_stored_together_by_the_next_statement() -> None:
    together, keys = KeptTogether(), FirstStatementWaits()
    first, *rest = key_copies(6)
    writing = asyncio.create_task(together.keep(keys, first))
    await asyncio.sleep(0.01)
    waiting = [asyncio.create_task(together.keep(keys, copy)) for copy in rest]
    await asyncio.sleep(0.01)
    assert not any(task.done() for task in waiting)
    keys.done.set()
    await asyncio.gather(writing, *waiting)
    assert keys.statements == [0, 1, 5]  # the first alone, then the five that came meanwhile, at once
    assert set(keys.rows) == {f"k{i}" for i in range(6)}
    await together.keep(keys, KeyCopy(kid="k9", owner="intake", person="arrivals/a/9", key=bytes(32)))
    assert keys.statements[-1] == 1  # and a key alone goes at once


async def test_when_the_statement_fails_every_key_it_carried_fails_and_is_retried_alone() -> None:
    together, keys = KeptTogether(), FirstStatementWaits()
    first, *rest = key_copies(4)
    writing = asyncio.create_task(together.keep(keys, first))
    await asyncio.sleep(0.01)
    keys.fail = True
    waiting = [asyncio.create_task(together.keep(keys, copy)) for copy in rest]
    await asyncio.sleep(0.01)
    keys.done.set()
    outcomes = await asyncio.gather(writing, *waiting, return_exceptions=True)
    assert outcomes[0] is None
    assert isinstance(outcomes[1], ConnectionError)  # the one that wrote for all
    assert all(isinstance(o, KeysNotKept) for o in outcomes[2:])
    keys.fail = False
    await asyncio.gather(*(together.keep(keys, copy) for copy in rest))  # the engine's retry
    assert set(keys.rows) == {f"k{i}" for i in range(4)}
