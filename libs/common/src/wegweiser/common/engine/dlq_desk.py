"""The `wegweiser dlq` functions as a service's web desk needs them: its own groups only.

A service's admin page lists the open entries of the consumer groups it runs and replays the ones an
admin picks. The work is `dlq_command`'s (`list_entries`, `replay_entries`); this module only keeps a
web process to its own groups, so that a posted id can never resolve another service's entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from wegweiser.common.engine.copy_headers import Kind
from wegweiser.common.engine.dlq_command import DlqEntry, list_entries, parse_id, replay_entries


class NotOurEntry(ValueError):
    """An id that is malformed or names a DLQ topic of a group the service does not run."""


async def open_entries(
    *, bootstrap_servers: str, groups: Sequence[str], ags: str | None = None
) -> list[DlqEntry]:
    """The groups' open dead-lettered and parked entries (optionally of one AGS), oldest first.

    The groups are read at once: each read is mostly waiting for the broker (a page answers in about a
    third of the time of one group after another).
    """
    per_group = await asyncio.gather(
        *(list_entries(bootstrap_servers=bootstrap_servers, group=g, ags=ags) for g in groups)
    )
    return sorted((e for found in per_group for e in found), key=lambda e: (e.timestamp_ms, e.id))


def owned(entry_ids: Iterable[str], groups: Sequence[str]) -> list[str]:
    """``entry_ids`` when every one is a well-formed id of one of ``groups``' DLQ topics; else NotOurEntry."""
    ids = list(entry_ids)
    for entry_id in ids:
        try:
            topic, _, _ = parse_id(entry_id)
        except ValueError as exc:
            raise NotOurEntry(entry_id) from exc
        if not any(topic.endswith(f".dlq.{group}") for group in groups):
            raise NotOurEntry(entry_id)
    return ids


async def retry(*, bootstrap_servers: str, groups: Sequence[str], entry_ids: Iterable[str]) -> list[str]:
    """Replay the given entries of the service's own groups, as `wegweiser dlq replay` does."""
    ids = owned(entry_ids, groups)
    return await replay_entries(bootstrap_servers=bootstrap_servers, entry_ids=ids) if ids else []


def is_dead(entry: DlqEntry) -> bool:
    """Dead entries are retried by hand; parked ones follow on their own once their aggregate is free."""
    return entry.kind == Kind.DEAD


def reason(entry: DlqEntry) -> str:
    """The technical reason as the engine recorded it (error type and message), for a dead entry."""
    meta = entry.meta
    return f"{meta.error_type}: {meta.error_message}" if meta.error_type else ""
