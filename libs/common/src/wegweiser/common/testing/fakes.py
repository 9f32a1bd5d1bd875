"""Fakes that subclass the real ports, for unit tests of handlers without I/O (STYLE.md §11)."""

from __future__ import annotations

import uuid
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
