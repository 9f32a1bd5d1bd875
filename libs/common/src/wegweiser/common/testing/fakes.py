"""Fakes that subclass the real ports, for unit tests of handlers without I/O; an outage of a dependency."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

from wegweiser.common.db import UnitOfWork
from wegweiser.common.events import Event


class FakeUnitOfWork(UnitOfWork):
    """Keeps published events and inbox ids in memory; ``commits`` counts successful commits."""

    def __init__(self) -> None:
        self.published: list[Event] = []
        self.processed: set[tuple[str, str]] = set()
        self.commits = 0
        self._pending: list[Event] = []
        self._pending_ids: set[tuple[str, str]] = set()

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

    async def already_processed(self, *, consumer: str, event_id: str) -> bool:
        return (consumer, event_id) in self.processed

    def mark_processed(self, *, consumer: str, event_id: str) -> None:
        self._pending_ids.add((consumer, event_id))

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
