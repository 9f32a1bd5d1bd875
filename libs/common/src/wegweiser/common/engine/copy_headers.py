"""Engine headers on retry and dead-letter records, and the names of the engine's topics.

Engine headers start with `wg_`; the event's own headers (CloudEvents, trace context) are copied
unchanged, so a replayed event keeps its original `ce_id`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum

PREFIX = "wg_"


class Kind(StrEnum):
    """Why a record is on a retry or dead-letter topic."""

    RETRY = "retry"  # retry topic: a failed event, due again at `wg_due_ms`
    FOLLOWER = "follower"  # retry topic: a later event of an aggregate that waits behind a failed one
    REPLAY = "replay"  # retry topic: put back by an operator from the DLQ
    DEAD = "dead"  # DLQ: retries exhausted or malformed
    PARKED = "parked"  # DLQ: a later event of a dead-lettered aggregate, waiting for the operator
    RESOLUTION = "resolution"  # DLQ: marks an entry replayed, discarded or released (no value)


class Resolution(StrEnum):
    REPLAYED = "replayed"
    DISCARDED = "discarded"
    RELEASED = "released"  # by the engine: a parked event was applied after its aggregate was un-parked


@dataclass(frozen=True, slots=True)
class Meta:
    """Engine headers of one retry/DLQ record."""

    kind: Kind
    attempt: int = 1
    due_ms: int = 0
    src_topic: str = ""
    src_partition: int = -1
    src_offset: int = -1
    src_timestamp_ms: int = 0
    group: str = ""
    parks: bool = True
    replay_of: int = -1
    resolves: int = -1
    resolution: str = ""
    retry_offset: int = -1
    error_type: str = ""
    error_message: str = ""


_FIELDS = tuple(f.name for f in fields(Meta))
_INT_FIELDS = {
    "attempt",
    "due_ms",
    "src_partition",
    "src_offset",
    "src_timestamp_ms",
    "replay_of",
    "resolves",
    "retry_offset",
}


def split(headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]) -> tuple[Meta | None, tuple]:
    """Separate engine headers from the event's own; Meta is None for a record without them."""
    own: list[tuple[str, bytes]] = []
    fields: dict[str, object] = {}
    for key, value in headers:
        if key.startswith(PREFIX):
            name = key[len(PREFIX) :]
            text = value.decode("utf-8", "replace") if value is not None else ""
            if name in _INT_FIELDS:
                fields[name] = int(text)
            elif name == "parks":
                fields[name] = text == "1"
            elif name == "kind":
                fields[name] = Kind(text)
            else:
                fields[name] = text
        else:
            own.append((key, value))
    if "kind" not in fields:
        return None, tuple(own)
    return Meta(**fields), tuple(own)  # type: ignore[arg-type]


def join(own: tuple[tuple[str, bytes], ...], meta: Meta) -> list[tuple[str, bytes]]:
    """Headers of a retry/DLQ record: the event's own plus the engine's (defaults left out)."""
    out = list(own)
    default = Meta(kind=meta.kind)
    for name in _FIELDS:
        value = getattr(meta, name)
        if name != "kind" and value == getattr(default, name):
            continue
        text = ("1" if value else "0") if isinstance(value, bool) else str(value)
        out.append((PREFIX + name, text.encode()))
    return out
