"""Person keys beyond the owner's table (``wegweiser.common.personal_data``): copies, and shredding.

Casework keeps a copy of intake's keys to open an arrival's persons, referrals of casework's to open a
referral request's person. Erasure shreds a person's keys in the service's own table and, for the keys
this service owns, on its key topic, which deletes every copy; a copy is never revived once shredded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial
from typing import Protocol

from wegweiser.common.db import UnitOfWork
from wegweiser.common.dispatch import EventHandler, as_event_handler
from wegweiser.common.engine import EngineConfig, MalformedRecord
from wegweiser.common.envelope import Envelope
from wegweiser.common.events import Event
from wegweiser.common.events.keys import PERSON_KEY_EVENTS, PersonKeyIssued, PersonKeyShredded
from wegweiser.common.personal_data import KeyCopy, UnreadablePersonalData, unwrap
from wegweiser.common.runtime import ConsumerSpec

KEYS_IN_FLIGHT = 16


def key_copy_engine(base: EngineConfig) -> EngineConfig:
    """The service's engine tuning for its key-copy group, with many keys stored at once.

    Every sealed record waits until its keys are stored, and a household brings a key per person, all
    of one AGS, so they should not queue two at a time as the service's other groups run. A key is one
    small insert, and the keys that come together are stored together (``KeptTogether``). (Many at
    once moved the arrivals' wait for their keys in the system day only from 113 to 101 ms, p50: the
    key consumer sees the keys with the arrival, and what cost the time was storing each one.)

    Nor is a municipality with a backlog of keys held back while the event loop runs late
    (``hold_late_ms``): a key costs one statement, and holding it back saves little CPU but stalls
    every sealed record waiting for it. In the system day, a casework replica restarted on a busy
    machine caught up its other groups in seconds, but its key copies took up to 25 s, one key a
    second for each town whose catch-up brought 25 keys or more."""
    return base.model_copy(
        update={
            "max_in_flight_per_partition": max(base.max_in_flight_per_partition, KEYS_IN_FLIGHT),
            "max_in_flight_per_ags": max(base.max_in_flight_per_ags, KEYS_IN_FLIGHT),
            "hold_late_ms": None,
        }
    )


class StoresKeys(Protocol):
    """What ``KeptTogether`` writes with: ``PersonKeys`` of the caller's unit of work."""

    async def keep_issued(self, copies: Sequence[KeyCopy]) -> None: ...


class KeptTogether:
    """The key copies that come while another statement stores keys are stored together in the next
    (group commit): at low load each key still goes at once, in a burst a round trip keeps many.

    A household brings a key per person, and in the system day's flood every Kreis's 2-s batch
    brought each casework replica dozens of keys at once, stored one statement and one database slot
    each, while the arrivals of every town queued for the slots (the dispatcher now takes none for an
    issued key: one statement at a time needs one connection). The caller whose key comes while none
    is being written writes all that wait, on its own session."""

    def __init__(self) -> None:
        self._waiting: list[tuple[KeyCopy, asyncio.Future[None]]] = []
        self._writing: asyncio.Future[None] | None = None

    async def keep(self, keys: StoresKeys, copy: KeyCopy) -> None:
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((copy, mine))
        try:
            while not mine.done():
                if self._writing is not None:
                    await asyncio.wait([self._writing])
                else:
                    await self._write_waiting(keys, mine)
        except asyncio.CancelledError:
            self._waiting = [(c, f) for c, f in self._waiting if f is not mine]
            raise
        mine.result()

    async def _write_waiting(self, keys: StoresKeys, mine: asyncio.Future[None]) -> None:
        batch, self._waiting = self._waiting, []
        self._writing = asyncio.get_running_loop().create_future()
        try:
            await keys.keep_issued(list({copy.kid: copy for copy, _ in batch}.values()))
        except BaseException as exc:
            for _, waiting in batch:  # each of the others fails as if it had written alone: retried
                if waiting is not mine and not waiting.done():
                    waiting.set_exception(KeysNotKept(repr(exc)))
            raise
        else:
            for _, waiting in batch:
                waiting.set_result(None)
        finally:
            self._writing.set_result(None)
            self._writing = None


class KeysNotKept(RuntimeError):
    """The statement that was to store this key along with others failed (the engine retries it)."""


async def keep_issued_key(
    event: PersonKeyIssued, envelope: Envelope, uow: UnitOfWork, *, together: KeptTogether
) -> None:
    try:
        key = unwrap(uow.key_wrapping_key, event.kid, event.wrapped_key)
    except UnreadablePersonalData as exc:
        raise MalformedRecord(f"{exc} (is WEGWEISER_KEY_WRAPPING_KEY the owner's?)") from exc
    copy = KeyCopy(kid=event.kid, owner=event.source, person=event.person, key=key)
    await together.keep(uow.person_keys, copy)


async def forget_shredded_key(event: PersonKeyShredded, envelope: Envelope, uow: UnitOfWork) -> None:
    await uow.person_keys.keep_shredded(kid=event.kid, owner=event.source, person=event.person)


def key_copy_handlers(owner: str) -> dict[type[Event], EventHandler]:
    """A consumer group's handlers, with the group's own ``KeptTogether`` (one database)."""
    issued, shredded = PERSON_KEY_EVENTS[owner]
    keep = partial(keep_issued_key, together=KeptTogether())
    return {issued: as_event_handler(keep), shredded: as_event_handler(forget_shredded_key)}


def key_copy_consumer(group: str, owner: str, base: EngineConfig) -> ConsumerSpec:
    """The consumer group that copies ``owner``'s keys: many at once, and no inbox, since keeping a key
    is idempotent by itself (``PersonKeys.keep_issued`` and ``keep_shredded``)."""
    issued, _ = PERSON_KEY_EVENTS[owner]
    return ConsumerSpec(
        group=group,
        topics=[issued.topic],
        handlers=key_copy_handlers(owner),
        config=key_copy_engine(base),
        inbox=False,
    )


async def shred_person_keys(uow: UnitOfWork, scopes: Sequence[str]) -> int:
    """Shred every key of these arrivals or cases this service holds; tell the copies of its own."""
    shredded = await uow.person_keys.shred(scopes)
    for kid, owner, person in shredded:
        if owner == uow.seals_as:
            _, event = PERSON_KEY_EVENTS[owner]
            uow.publish(event(kid=kid, person=person))
    return len(shredded)
