"""Fakes that subclass the real ports, for unit tests of handlers without I/O; an outage of a dependency."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Self

from wegweiser.common.db import UnitOfWork
from wegweiser.common.events import Event
from wegweiser.common.personal_data import DEV_KEY_WRAPPING_KEY, KeyCopy, wrapping_key


class FakeUnitOfWork(UnitOfWork):
    """Keeps published events and inbox ids in memory; ``commits`` counts successful commits."""

    def __init__(self) -> None:
        self.published: list[Event] = []
        self.processed: set[tuple[str, str]] = set()
        self.commits = 0
        self._pending: list[Event] = []
        self._pending_ids: set[tuple[str, str]] = set()
        self.keys = FakePersonKeys()
        self.key_wrapping_key = wrapping_key(DEV_KEY_WRAPPING_KEY)

    async def __aenter__(self) -> Self:
        self._pending, self._pending_ids = [], set()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._pending, self._pending_ids = [], set()  # rollback of anything not committed

    def publish(self, event: Event, *, event_id: uuid.UUID | None = None) -> str:
        self._pending.append(event)
        return str(event_id or uuid.uuid4())

    async def claim_event(self, *, consumer: str, event_id: str) -> bool:
        if (consumer, event_id) in self.processed | self._pending_ids:
            return False
        self._pending_ids.add((consumer, event_id))
        return True

    async def rollback(self) -> None:
        self._pending, self._pending_ids = [], set()

    async def commit(self) -> None:
        self.published += self._pending
        self.processed |= self._pending_ids
        self._pending, self._pending_ids = [], set()
        self.commits += 1

    @property
    def session(self) -> Any:  # type: ignore[override]
        raise AssertionError("unit tests must not touch a database session")

    @property
    def person_keys(self) -> Any:
        return self.keys


class FakePersonKeys:
    """``PersonKeys`` in memory: kid -> (owner, person, key or None once shredded)."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, str, bytes | None]] = {}
        self.statements: list[int] = []  # how many keys each ``keep_issued`` stored

    def issue(self, owner: str, person: str) -> tuple[str, bytes]:
        kid, key = str(uuid.uuid4()), uuid.uuid4().bytes * 2
        self.rows[kid] = (owner, person, key)
        return kid, key

    async def known(self, kids: set[str]) -> dict[str, bytes | None]:
        return {kid: self.rows[kid][2] for kid in kids if kid in self.rows}

    async def keep_shredded(self, *, kid: str, owner: str, person: str) -> None:
        self.rows[kid] = (owner, person, None)

    async def keep_issued(self, copies: Sequence[KeyCopy]) -> None:
        self.statements.append(len(copies))
        for copy in copies:
            self.rows.setdefault(copy.kid, (copy.owner, copy.person, copy.key))

    async def shred(self, scopes: Sequence[str]) -> list[tuple[str, str, str]]:
        def whose(person: str) -> bool:
            return any(person.startswith(f"{s}/") for s in scopes)

        found = [(kid, o, p) for kid, (o, p, key) in self.rows.items() if key is not None and whose(p)]
        for kid, owner, person in found:
            self.rows[kid] = (owner, person, None)
        return found


class Outage:
    """A dependency that is down until ``end()``: ``wrap(handler)`` fails with ``ConnectionError(message)``
    while it lasts, then calls the handler (a record dead-lettered now, processed once retried later)."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.lasting = True

    def end(self) -> None:
        self.lasting = False

    def wrap(self, handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def failing_while_it_lasts(*args: Any, **kwargs: Any) -> Any:
            if self.lasting:
                raise ConnectionError(self.message)
            return await handler(*args, **kwargs)

        return failing_while_it_lasts
