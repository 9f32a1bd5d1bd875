"""The dispatcher's choice of what to read: a group reads only the event types it handles."""

from __future__ import annotations

import uuid

import pytest

from wegweiser.common import events
from wegweiser.common.dispatch import EventDispatcher
from wegweiser.common.engine import MalformedRecord, Record
from wegweiser.common.envelope import encode
from wegweiser.common.testing.fakes import FakeUnitOfWork


def record(headers: tuple[tuple[str, bytes], ...], value: bytes) -> Record:
    return Record("t", 0, 7, "08111000", value, headers, 0, 1, "t", 0, 7)


def erasure_group() -> EventDispatcher:
    async def handle(event: events.Event, envelope: object, uow: object) -> None:
        raise AssertionError("no erasure was sent")

    uow = FakeUnitOfWork()
    return EventDispatcher(group="g", handlers={events.CaseErased: handle}, unit_of_work=lambda: uow)


async def test_an_event_type_the_group_does_not_handle_is_skipped_before_its_payload_is_read() -> None:
    """Intake hears every case event for its erasures: it must not parse the others to drop them."""
    opened = encode(
        events.CaseOpened(
            case_id=uuid.uuid4(),
            arrival_id=uuid.uuid4(),
            ags="08111000",
            provider_id="p",
            opened_on="2026-12-01",
            household_size=1,
        )
    )
    await erasure_group()(record(opened.headers, b"{not json"))


async def test_an_unknown_event_type_is_still_refused_with_a_reason() -> None:
    headers = (*((name, b"x") for name in ("ce_id", "ce_source", "ce_subject")), ("ce_type", b"de.nobody.v1"))
    with pytest.raises(MalformedRecord, match="unknown event type"):
        await erasure_group()(record(headers, b"{}"))
