"""What a handler receives, and how it tells the engine that a record can never succeed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


class NotYet(Exception):
    """Raised by a handler for a record that waits for something still on its way (another topic's
    event), not for a fault: it is tried again after ``EngineConfig.not_yet_retry_s`` without counting
    an attempt, for ``not_yet_budget_s`` after the event was written; only then does exponential
    back-off count towards ``max_attempts`` (and the dead-letter topic). The back-off of a failure (1 s,
    3 s, 9 s, 27 s) would otherwise keep it waiting up to 27 s after what it waited for had come."""


class MalformedRecord(Exception):
    """Raised by a handler for a record that no retry can fix (undecodable, unknown type, invalid).

    The engine dead-letters it at once. If the record names its aggregate (`ce_subject`), that
    aggregate is parked like after exhausted retries: its later events would otherwise be applied
    without this one.
    """


class CloudEventHeaders:
    """The CloudEvents attributes (binary mode) of anything that carries a record's headers."""

    __slots__ = ()
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        """The last value of header `name`, decoded as UTF-8, or None."""
        for key, value in reversed(self.headers):
            if key == name:
                return value.decode("utf-8", "replace") if value is not None else None
        return None

    @property
    def ce_id(self) -> str | None:
        return self.header("ce_id")

    @property
    def ce_type(self) -> str | None:
        return self.header("ce_type")

    @property
    def subject(self) -> str | None:
        """The aggregate id (`ce_subject`): the unit of ordering."""
        return self.header("ce_subject")


@dataclass(frozen=True, slots=True)
class Record(CloudEventHeaders):
    """One delivery of an event to a handler; `source_*` point at the original source-topic record."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    timestamp_ms: int
    attempt: int
    source_topic: str
    source_partition: int
    source_offset: int

    @property
    def ags(self) -> str | None:
        """The municipality key: the Kafka key."""
        return self.key


Handler = Callable[[Record], Awaitable[None]]
