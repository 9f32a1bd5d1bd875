"""Operator commands for a group's dead-letter topics: list, show, replay, discard.

A replay copies the entry, with its original headers (its `ce_id` included), into the group's
retry topic — never the source topic, which other groups read too — and records a `replayed`
resolution on the DLQ; a discard records `discarded`. Either un-parks the aggregate: the engine
then applies the aggregate's waiting (`parked`) events in order by itself.

`add_dlq_commands` plugs `dlq list|show|replay|discard` into the project CLI (`wegweiser dlq ...`);
every subcommand sets `func(args) -> int` (exit code) and `run(args)` on the parsed namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from wegweiser.common.engine.copy_headers import Kind, Meta, Resolution, join, split
from wegweiser.common.engine.record import CloudEventHeaders
from wegweiser.common.engine.retry_topics import dlq_topic, partition_counts, retry_topic
from wegweiser.common.kafka_security import client_options

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


@dataclass(frozen=True, slots=True)
class DlqEntry(CloudEventHeaders):
    """One dead-lettered (`dead`) or waiting (`parked`) event, with its resolution if any."""

    dlq_topic: str
    partition: int
    offset: int
    kind: str
    group: str
    key: str | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    meta: Meta
    timestamp_ms: int
    resolution: str | None = None

    @property
    def id(self) -> str:
        return f"{self.dlq_topic}:{self.partition}:{self.offset}"

    @property
    def source_topic(self) -> str:
        return self.meta.src_topic

    def age_s(self, now: float | None = None) -> float:
        return (now if now is not None else time.time()) - self.timestamp_ms / 1000


def parse_id(entry_id: str) -> tuple[str, int, int]:
    """`<dlq topic>:<partition>:<offset>` -> its parts."""
    topic, partition, offset = entry_id.rsplit(":", 2)
    return topic, int(partition), int(offset)


async def dlq_topics(*, bootstrap_servers: str, group: str, topics: Iterable[str] | None = None) -> list[str]:
    """The group's DLQ topics (optionally only those of the given source topics)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_options())
    await admin.start()
    try:
        names = await admin.list_topics()
    finally:
        await admin.close()
    suffix = f".dlq.{group}"  # group ids may contain dots: match the known group as a suffix
    wanted = set(topics) if topics else None
    sources = [name[: -len(suffix)] for name in names if name.endswith(suffix)]
    return sorted(dlq_topic(s, group) for s in sources if wanted is None or s in wanted)


async def _partition_count(bootstrap_servers: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_options())
    await admin.start()
    try:
        return (await partition_counts(admin, [topic])).get(topic, 0)
    finally:
        await admin.close()


async def read_dlq(*, bootstrap_servers: str, dlq_topic: str) -> list[DlqEntry]:
    """Every entry of one DLQ topic, oldest first, with resolutions applied."""
    if ".dlq." not in dlq_topic:
        raise ValueError(f"not a DLQ topic: {dlq_topic}")
    count = await _partition_count(bootstrap_servers, dlq_topic)
    if not count:
        return []
    tps = [TopicPartition(dlq_topic, p) for p in range(count)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, **client_options(), enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        entries: dict[tuple[int, int], DlqEntry] = {}
        resolutions: list[tuple[int, int, str]] = []
        remaining = {tp for tp in tps if end[tp] > 0}
        for tp in tps:
            if await consumer.position(tp) >= end[tp]:
                remaining.discard(tp)
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                for cr in records:
                    if cr.offset >= end[tp]:
                        continue
                    meta, own = split(cr.headers)
                    if meta is None:
                        continue
                    if meta.kind is Kind.RESOLUTION:
                        resolutions.append((tp.partition, meta.resolves, meta.resolution))
                        continue
                    entries[(tp.partition, cr.offset)] = DlqEntry(
                        dlq_topic=dlq_topic,
                        partition=tp.partition,
                        offset=cr.offset,
                        kind=meta.kind.value,
                        group=meta.group,
                        key=cr.key.decode() if cr.key is not None else None,
                        value=cr.value,
                        headers=own,
                        meta=meta,
                        timestamp_ms=cr.timestamp,
                    )
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
        for partition, offset, resolution in resolutions:
            entry = entries.get((partition, offset))
            if entry is not None and entry.resolution is None:
                entries[(partition, offset)] = replace(entry, resolution=resolution)
        return [entries[k] for k in sorted(entries)]
    finally:
        await consumer.stop()


READ_AT_ONCE = 8
"""How many DLQ topics of one group ``list_entries`` reads at the same time."""


async def list_entries(
    *,
    bootstrap_servers: str,
    group: str,
    topics: Iterable[str] | None = None,
    ags: str | None = None,
    ce_type: str | None = None,
    older_than_s: float | None = None,
    newer_than_s: float | None = None,
    include_parked: bool = True,
    include_resolved: bool = False,
) -> list[DlqEntry]:
    """Entries of `group`'s DLQs, filtered by source topic, AGS, event type and age.

    The DLQ topics are read at once (at most ``READ_AT_ONCE``): each read is mostly waiting for the
    broker, and a group has one DLQ per source topic (referrals' feedback group one per Kafka partner).
    """
    now = time.time()
    out = []
    names = await dlq_topics(bootstrap_servers=bootstrap_servers, group=group, topics=topics)
    at_once = asyncio.Semaphore(READ_AT_ONCE)

    async def read(name: str) -> list[DlqEntry]:
        async with at_once:
            return await read_dlq(bootstrap_servers=bootstrap_servers, dlq_topic=name)

    for found in await asyncio.gather(*(read(name) for name in names)):
        for entry in found:
            if entry.resolution is not None and not include_resolved:
                continue
            if entry.kind == Kind.PARKED and not include_parked:
                continue
            if ags is not None and entry.key != ags:
                continue
            if ce_type is not None and entry.ce_type != ce_type:
                continue
            age = entry.age_s(now)
            if older_than_s is not None and age < older_than_s:
                continue
            if newer_than_s is not None and age > newer_than_s:
                continue
            out.append(entry)
    return out


async def show_entry(*, bootstrap_servers: str, entry_id: str) -> DlqEntry | None:
    """One entry by id, resolved or not."""
    topic, partition, offset = parse_id(entry_id)
    for entry in await read_dlq(bootstrap_servers=bootstrap_servers, dlq_topic=topic):
        if entry.partition == partition and entry.offset == offset:
            return entry
    return None


async def replay_entries(*, bootstrap_servers: str, entry_ids: Iterable[str]) -> list[str]:
    """Put open entries back on their group's retry topic (original headers and `ce_id`)."""
    return await _resolve(bootstrap_servers, list(entry_ids), Resolution.REPLAYED)


async def discard_entries(*, bootstrap_servers: str, entry_ids: Iterable[str]) -> list[str]:
    """Drop open entries for good; their aggregates continue with the next event."""
    return await _resolve(bootstrap_servers, list(entry_ids), Resolution.DISCARDED)


async def _resolve(bootstrap_servers: str, entry_ids: list[str], resolution: Resolution) -> list[str]:
    by_topic: dict[str, list[tuple[int, int, str]]] = {}
    for entry_id in entry_ids:
        topic, partition, offset = parse_id(entry_id)
        by_topic.setdefault(topic, []).append((partition, offset, entry_id))
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, **client_options(), acks="all", enable_idempotence=True
    )
    await producer.start()
    report: list[str] = []
    try:
        for topic, wanted in by_topic.items():
            entries = {
                (e.partition, e.offset): e
                for e in await read_dlq(bootstrap_servers=bootstrap_servers, dlq_topic=topic)
            }
            for partition, offset, entry_id in wanted:
                entry = entries.get((partition, offset))
                if entry is None:
                    report.append(f"{entry_id}: no such entry")
                    continue
                if entry.resolution is not None:
                    report.append(f"{entry_id}: already {entry.resolution}, left alone")
                    continue
                report.append(await _apply(producer, entry, resolution))
    finally:
        await producer.stop()
    return report


async def _apply(producer: AIOKafkaProducer, entry: DlqEntry, resolution: Resolution) -> str:
    """Replay copy first, then the resolution record: the engine never sees an un-park too early."""
    key = entry.key.encode() if entry.key is not None else None
    marker = Meta(kind=Kind.RESOLUTION, resolves=entry.offset, resolution=resolution, group=entry.group)
    what = f"{entry.id} ({entry.kind}, {entry.ce_type}, ce_id {entry.ce_id}, AGS {entry.key})"
    if resolution is Resolution.REPLAYED:
        target = retry_topic(entry.meta.src_topic, entry.group)
        copy = replace(
            entry.meta,
            kind=Kind.REPLAY,
            attempt=1,
            due_ms=0,
            replay_of=entry.offset,
            error_type="",
            error_message="",
            parks=True,
        )
        sent = await producer.send_and_wait(
            target, value=entry.value, key=key, headers=join(entry.headers, copy), partition=entry.partition
        )
        marker = replace(marker, retry_offset=sent.offset)
        what += f" -> {target}[{entry.partition}]@{sent.offset}"
    await producer.send_and_wait(
        entry.dlq_topic, value=None, key=key, headers=join((), marker), partition=entry.partition
    )
    follow = "; its aggregate is un-parked" if entry.kind == Kind.DEAD else ""
    return f"{resolution.value} {what}{follow}"


# ---------------------------------------------------------------------- CLI

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")


def parse_duration(text: str) -> float:
    """`90`, `90s`, `15m`, `2h`, `3d` -> seconds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 15m, 2h, 3d)")
    number, unit = match.groups()
    return float(number) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _line(entry: DlqEntry) -> str:
    status = entry.resolution or "open"
    error = f" {entry.meta.error_type}: {entry.meta.error_message}" if entry.kind == Kind.DEAD else ""
    return (
        f"{entry.id}  {status:<9} {entry.kind:<6} age {_age(entry.age_s()):>6}  AGS {entry.key}  "
        f"{entry.ce_type}  subject {entry.subject}  attempts {entry.meta.attempt}{error}"
    )


def _detail(entry: DlqEntry) -> str:
    m = entry.meta
    lines = [
        f"id:          {entry.id}",
        f"status:      {entry.resolution or 'open'}",
        f"kind:        {entry.kind}",
        f"group:       {entry.group}",
        f"AGS (key):   {entry.key}",
        f"source:      {m.src_topic}[{m.src_partition}]@{m.src_offset}",
        f"attempts:    {m.attempt}",
        f"error:       {m.error_type}: {m.error_message}" if m.error_type else "error:       -",
        f"dead-lettered {_age(entry.age_s())} ago",
        "headers:",
        *(f"  {k}: {v.decode('utf-8', 'replace')}" for k, v in entry.headers),
        f"value ({len(entry.value or b'')} bytes):",
        f"  {(entry.value or b'').decode('utf-8', 'replace')[:2000]}",
    ]
    return "\n".join(lines)


def _bootstrap(args: argparse.Namespace) -> str:
    return str(args.bootstrap_servers or os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or DEFAULT_BOOTSTRAP)


def _filtered(
    args: argparse.Namespace,
    *,
    include_parked: bool,
    newer_than_s: float | None = None,
    include_resolved: bool = False,
) -> list[DlqEntry]:
    """The entries the command line's ``filters`` select (list, replay and discard share them)."""
    return asyncio.run(
        list_entries(
            bootstrap_servers=_bootstrap(args),
            group=args.group,
            topics=args.topic or None,
            ags=args.ags,
            ce_type=args.type,
            older_than_s=args.older_than,
            newer_than_s=newer_than_s,
            include_parked=include_parked,
            include_resolved=include_resolved,
        )
    )


def _cmd_list(args: argparse.Namespace) -> int:
    entries = _filtered(
        args, newer_than_s=args.newer_than, include_parked=not args.dead_only, include_resolved=args.all
    )
    for entry in entries:
        print(_line(entry))
    print(f"{len(entries)} entries")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    entry = asyncio.run(show_entry(bootstrap_servers=_bootstrap(args), entry_id=args.id))
    if entry is None:
        print(f"{args.id}: no such entry")
        return 1
    print(_detail(entry))
    return 0


def _selected(args: argparse.Namespace) -> list[str]:
    ids = list(args.ids)
    if args.group:
        ids += [e.id for e in _filtered(args, include_parked=False)]
    return ids


def _cmd_resolve(args: argparse.Namespace) -> int:
    ids = _selected(args)
    if not ids:
        print("nothing selected: give entry ids, or --group with filters")
        return 1
    action = replay_entries if args.action == "replay" else discard_entries
    for line in asyncio.run(action(bootstrap_servers=_bootstrap(args), entry_ids=ids)):
        print(line)
    return 0


def _exiting(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], None]:
    """`func` for CLIs that dispatch on `args.run(args)` and ignore the result: exit non-zero."""

    def run(args: argparse.Namespace) -> None:
        code = func(args)
        if code:
            raise SystemExit(code)

    return run


def add_dlq_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `dlq list|show|replay|discard`.

    Each sets `func(args) -> int` (exit code) and `run(args)` (exits non-zero on failure).
    """
    dlq = subparsers.add_parser("dlq", help="inspect and resolve dead-lettered events")
    commands = dlq.add_subparsers(dest="dlq_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--bootstrap-servers", help=f"Kafka (default $KAFKA_BOOTSTRAP_SERVERS or {DEFAULT_BOOTSTRAP})"
        )

    def filters(p: argparse.ArgumentParser, *, group_required: bool) -> None:
        p.add_argument("--group", required=group_required, help="consumer group whose DLQ to read")
        p.add_argument("--topic", action="append", help="source topic (repeatable; default all)")
        p.add_argument("--ags", help="only this municipality key")
        p.add_argument("--type", help="only this ce_type")
        p.add_argument("--older-than", type=parse_duration, help="only entries older than e.g. 2h")

    p = commands.add_parser("list", help="list open entries of a group")
    common(p)
    filters(p, group_required=True)
    p.add_argument("--newer-than", type=parse_duration, help="only entries newer than e.g. 1d")
    p.add_argument("--dead-only", action="store_true", help="leave out parked (waiting) events")
    p.add_argument("--all", action="store_true", help="include replayed, discarded and released entries")
    p.set_defaults(func=_cmd_list, run=_exiting(_cmd_list))

    p = commands.add_parser("show", help="show one entry with headers and payload")
    common(p)
    p.add_argument("id", help="<dlq topic>:<partition>:<offset>")
    p.set_defaults(func=_cmd_show, run=_exiting(_cmd_show))

    for action, text in (
        ("replay", "put entries back on the group's retry topic (original ce_id) and un-park"),
        ("discard", "drop entries for good and un-park their aggregates"),
    ):
        p = commands.add_parser(action, help=text)
        common(p)
        p.add_argument("ids", nargs="*", help="<dlq topic>:<partition>:<offset> ...")
        filters(p, group_required=False)
        p.set_defaults(func=_cmd_resolve, run=_exiting(_cmd_resolve), action=action)
