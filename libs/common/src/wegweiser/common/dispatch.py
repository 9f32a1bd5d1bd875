"""Dispatch: typed event handlers on the isolation engine — decode, inbox, handle, commit, once per event.

The engine (``wegweiser.common.engine``) gives per-aggregate order, fairness across municipalities,
retry and dead-letter; this layer gives handlers a validated event and a unit of work, and makes a
redelivered event a no-op.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from opentelemetry import trace
from sqlalchemy.exc import IntegrityError

from wegweiser.common.db import UnitOfWork
from wegweiser.common.engine import MalformedRecord, Record
from wegweiser.common.envelope import Envelope, MalformedEvent, decode
from wegweiser.common.events import Event

log = logging.getLogger(__name__)

EventHandler = Callable[[Any, Envelope, UnitOfWork], Awaitable[None]]
DEFAULT_DATABASE_SLOTS = 16


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
    ) -> None:
        self.group = group
        self._handlers = dict(handlers)
        self._unit_of_work = unit_of_work
        # The engine may run hundreds of lanes at once; only this many hold a database connection, so a
        # backlog waits here instead of timing out on an exhausted connection pool.
        self._database_slots = database_slots or asyncio.Semaphore(DEFAULT_DATABASE_SLOTS)

    async def __call__(self, record: Record) -> None:
        if record.value is None and record.ce_type is None:
            return  # a compaction tombstone (e.g. a removed partner on the catalogue topic): no event
        try:
            envelope, event = decode(record.headers, record.value)
        except MalformedEvent as exc:
            raise MalformedRecord(str(exc)) from exc
        handler = self._handlers.get(type(event))
        if handler is None:
            return  # a valid event this group does not care about (tolerant reader)
        # The engine opened this event's consumer span (one span per event); name the event in it.
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute("cloudevents.event_type", envelope.type)
        async with self._database_slots, self._unit_of_work() as uow:
            if await uow.already_processed(consumer=self.group, event_id=envelope.id):
                log.info("duplicate skipped", extra={"ce_id": envelope.id, "group": self.group})
                return
            await handler(event, envelope, uow)
            uow.mark_processed(consumer=self.group, event_id=envelope.id)
            try:
                await uow.commit()
            except IntegrityError:
                # A concurrent delivery of the same event won the race; its effect stands.
                async with self._unit_of_work() as check:
                    if await check.already_processed(consumer=self.group, event_id=envelope.id):
                        return
                raise
