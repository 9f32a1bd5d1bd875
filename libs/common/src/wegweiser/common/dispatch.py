"""Dispatch: typed event handlers on the isolation engine — decode, inbox, handle, commit, once per event.

The engine (``wegweiser.common.engine``) gives per-aggregate order, fairness across municipalities,
retry and dead-letter; this layer gives handlers a validated event and a unit of work, and makes a
redelivered event a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar, cast

from opentelemetry import trace

from wegweiser.common.db import UnitOfWork
from wegweiser.common.engine import MalformedRecord, NotYet, Record
from wegweiser.common.envelope import Envelope, MalformedEvent, parse, validate
from wegweiser.common.events import REGISTRY, Event
from wegweiser.common.events.keys import PersonKeyIssued
from wegweiser.common.personal_data import MARKER, UnreadablePersonalData, key_ids, open_sealed

log = logging.getLogger(__name__)

EventHandler = Callable[[Any, Envelope, UnitOfWork], Awaitable[None]]
T = TypeVar("T")
DEFAULT_DATABASE_SLOTS = 16
KEY_WAITS_S = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64)
"""A sealed record may come before its key (another topic, another consumer): look again a few times
before a retry; short first waits, since the key is usually a few milliseconds behind."""


class PersonKeyNotYetKnown(NotYet, LookupError):
    """A sealed record whose data key has not arrived from the key topic yet; the engine tries it again
    each second (``NotYet``) instead of backing off as from a fault."""

    def __init__(self, kids: set[str]) -> None:
        super().__init__(f"data keys not (yet) received: {', '.join(sorted(kids))}")
        self.kids = frozenset(kids)


class KeysStored:
    """Wakes a sealed record waiting for its keys when this process's key consumer has stored one.

    The keys come through another consumer group; when this process holds the key's partition, the
    record looks again right after the key's commit instead of at its next pause (the pauses double:
    a key stored 80 ms after the first look is seen at 150 ms). Keys another replica stores are found
    at the next pause."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Future[None]]] = {}

    async def wait(self, kids: frozenset[str], timeout_s: float) -> None:
        """Until one of ``kids`` is stored here, or ``timeout_s``."""
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for kid in kids:
            self._waiting.setdefault(kid, set()).add(woken)
        try:
            await asyncio.wait_for(woken, timeout_s)
        except TimeoutError:
            pass
        finally:
            for kid in kids:
                waiters = self._waiting.get(kid)
                if waiters is not None:
                    waiters.discard(woken)
                    if not waiters:
                        del self._waiting[kid]

    def stored(self, kid: str) -> None:
        for woken in self._waiting.pop(kid, ()):
            if not woken.done():
                woken.set_result(None)


KEYS_STORED = KeysStored()
"""This process's: the dispatcher of a key-copy group tells it, the dispatchers of sealed records wait."""


def as_event_handler(handler: Callable[..., Awaitable[None]]) -> EventHandler:
    """A service's handler takes its own unit of work (a ``UnitOfWork`` subclass): the dispatcher hands
    it exactly the one the service gives the runtime, though ``EventHandler`` can only promise the base."""
    return cast(EventHandler, handler)


class EventDispatcher:
    """The engine's record handler for one consumer group."""

    def __init__(
        self,
        *,
        group: str,
        handlers: Mapping[type[Event], EventHandler],
        unit_of_work: Callable[[], UnitOfWork],
        database_slots: asyncio.Semaphore | None = None,
        inbox: bool = True,
    ) -> None:
        """``inbox=False`` for a group whose handlers are idempotent by themselves (the key copies): no
        inbox row per event, one statement fewer."""
        self.group = group
        self._inbox = inbox
        self._handlers = dict(handlers)
        # Known types this group has no handler for: skipped on their header, before the payload is
        # read (intake hears every case event for its erasures, and would parse each one to drop it).
        self._not_handled = frozenset(t for t, model in REGISTRY.items() if model not in self._handlers)
        self._unit_of_work = unit_of_work
        # The engine may run hundreds of lanes at once; only this many hold a database connection, so a
        # backlog waits here instead of timing out on an exhausted connection pool.
        self._database_slots = database_slots or asyncio.Semaphore(DEFAULT_DATABASE_SLOTS)

    async def __call__(self, record: Record) -> None:
        if record.value is None and record.ce_type is None:
            return  # a compaction tombstone (e.g. a removed partner on the catalogue topic): no event
        if record.ce_type in self._not_handled:
            return  # a valid event type this group does not care about (tolerant reader)
        try:
            envelope, model, payload = parse(record.headers, record.value)
        except MalformedEvent as exc:
            raise MalformedRecord(str(exc)) from exc
        handler = self._handlers.get(model)
        if handler is None:
            return  # as above, for a record whose type header could not be read without parsing
        # The engine opened this event's consumer span (one span per event); name the event in it.
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute("cloudevents.event_type", envelope.type)
            span.set_attribute("cloudevents.event_subject", envelope.subject)
        sealed = record.value is not None and MARKER in record.value
        # Each look takes a database slot only for itself: handlers sleeping on every slot would keep
        # the key consumer itself from storing the keys they wait for.
        await until_keys_known(lambda: self._handle(record, envelope, model, payload, handler, sealed=sealed))

    async def _handle(
        self,
        record: Record,
        envelope: Envelope,
        model: type[Event],
        payload: Any,
        handler: EventHandler,
        *,
        sealed: bool,
    ) -> None:
        """One transaction: the inbox row (claimed first: a redelivery stops there) and the handler's
        change commit together.
        The keys are looked up first: a record still waiting for them costs one query a look."""
        async with self._slot_for(model), self._unit_of_work() as uow:
            event = await opened_event(model, payload, uow) if sealed else _valid(model, payload)
            if self._inbox and not await uow.claim_event(consumer=self.group, event_id=envelope.id):
                log.info("duplicate skipped", extra={"ce_id": envelope.id, "group": self.group})
                return
            if event is not None:
                await handler(event, envelope, uow)
            else:
                log.info("sealed for an erased person: skipped", extra={"ce_id": envelope.id})
            # No race with a concurrent delivery of the same event is left for the commit: its claim
            # waited for this one's (or this one for its) and stopped at "duplicate skipped".
            await uow.commit()
        if isinstance(event, PersonKeyIssued):
            KEYS_STORED.stored(event.kid)

    def _slot_for(self, model: type[Event]) -> contextlib.AbstractAsyncContextManager[Any]:
        """A database slot, except for an issued key's copy: the key-copy group stores those together,
        one statement at a time (``KeptTogether``), and keys waiting for that statement while holding
        slots would keep the records that wait for them out of the database."""
        if not self._inbox and issubclass(model, PersonKeyIssued):
            return contextlib.nullcontext()
        return self._database_slots


def _valid(model: type[Event], payload: Any) -> Event:
    try:
        return validate(model, payload)
    except MalformedEvent as exc:
        raise MalformedRecord(str(exc)) from exc


async def until_keys_known(attempt: Callable[[], Awaitable[T]]) -> T:
    """``attempt()``, made again after each of ``KEY_WAITS_S`` while it raises PersonKeyNotYetKnown (a
    sealed record's keys come on another topic, through another consumer); the last one's error stands."""
    for pause in KEY_WAITS_S:
        try:
            return await attempt()
        except PersonKeyNotYetKnown as missing:
            await KEYS_STORED.wait(missing.kids, pause)
    return await attempt()


async def opened_event(model: type[Event], payload: Any, uow: UnitOfWork) -> Event | None:
    """The event with its sealed personal fields opened with the keys ``uow``'s service holds; None if a
    key was shredded (person erased). PersonKeyNotYetKnown for a key not yet received (look again with
    ``until_keys_known``, in a new unit of work); MalformedRecord for a payload that cannot be read."""
    kids = key_ids(payload)
    if not kids:
        return _valid(model, payload)
    keys = await uow.person_keys.known(kids)
    if not kids <= keys.keys():
        raise PersonKeyNotYetKnown(kids - keys.keys())
    if any(key is None for key in keys.values()):
        return None
    try:
        open_sealed(payload, {kid: key for kid, key in keys.items() if key is not None})
    except UnreadablePersonalData as exc:
        raise MalformedRecord(str(exc)) from exc
    return _valid(model, payload)
