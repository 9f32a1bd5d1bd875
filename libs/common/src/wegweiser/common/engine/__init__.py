"""The isolation consumer engine: one municipality's load and failures stay its own (ARCHITECTURE §5).

Why beside faststream, not inside it: faststream's Kafka subscriber hands a partition's records to
the handler one at a time (``max_workers`` only adds consumers, capped by the partition count),
``nack()`` redelivers forever and ``ACK`` commits failures. Per-aggregate lanes inside a partition,
a commit at the low-water mark of finished offsets, park/retry/dead-letter and per-AGS bounds need
control over fetching, pausing and committing, so this is a small engine on aiokafka. Services keep
faststream for producing (outbox relay), tracing and AsyncAPI; their typed dispatch (envelope,
pydantic payload, inbox) is the ``Handler`` given to the engine.

How it works
------------
* **Lanes.** Within a partition, events of one aggregate (``ce_subject``; else the key; else the
  partition) run strictly in source-offset order, different aggregates concurrently. The offset
  committed is the lowest unfinished one (the model of Confluent's Parallel Consumer), so a restart
  re-delivers only unfinished or recently finished events; the services' inbox makes those no-ops.
* **Fairness and bounds.** Ready lanes wait in one queue per AGS and AGS take turns (round robin),
  with in-flight caps per AGS and per partition. Memory is bounded per AGS and per partition.
  *Overflow path*: an AGS that reaches its own buffer cap does not pause the partition; its further
  records are **spilled** to the group's retry topic (kind ``overflow``) and read back when it has
  room, and until then every later record of that AGS follows the same path, so its order holds
  (a lane's earlier in-memory events are copied first). Only when the whole partition's buffer is
  full — every AGS together, not one — is the partition paused. The price of a flood is paid by
  the flooding AGS (one extra write and read per spilled event), and by retry-topic readers in the
  partition, which wait while the retry partition holds back a spilled backlog.
* **Park, retry, dead-letter.** A failed event stays at the head of its lane (the lane is parked;
  other lanes continue) and is retried with exponential back-off up to ``max_attempts``, then
  dead-lettered; the lane stays parked until an operator replays or discards the entry
  (`wegweiser.common.engine.operator`). ``MalformedRecord`` is dead-lettered at once and parks its
  aggregate when the record names one: later events of it must not be applied without it.

Durability of retries: the retry topic (not commit metadata, not a lock topic)
-------------------------------------------------------------------------------
Commit metadata (4 KB) cannot hold an aggregate that stays parked for days, and holding the source
offset back for that long would stall the partition's commit for everyone. So every event carries
its source offset (``wg_src_offset``) onto ``<topic>.retry.<group>`` and ``<topic>.dlq.<group>``,
whose partition *p* holds copies from source partition *p* only (same partition count; the range
assignor gives all three partitions *p* to one member). A copy is written (acks=all, idempotent
producer) before the offset it replaces is released for commit:

* a failed event's next attempt (``wg_attempt``, due time ``wg_due_ms``) goes to the retry topic,
  and so does every later event of its aggregate that only the source topic held (``follower``);
* after the last attempt the event goes to the DLQ (``dead``) with its aggregate's waiting events
  (``parked``); the DLQ is the park store: 90 days or the source's shorter retention, not the
  retry topic's 7 days;
* an operator's replay is a copy on the retry topic plus a ``replayed`` resolution record on the
  DLQ; a discard is a ``discarded`` resolution; the engine marks parked entries it applied as
  ``released``.

Retry and DLQ offsets stay uncommitted while their event is unfinished. After a restart (even
SIGKILL) or a rebalance, the new owner first reads partition *p* of the DLQ and the retry topic up
to their end, rebuilding lanes, parked aggregates and attempt counts, and only then reads the
source. Copies of one event merge by source offset, so duplicates from an unlucky crash are
harmless, and an aggregate is never applied out of order. Recovery does not load a flood's whole
spilled backlog: past an AGS's buffer cap it skips its overflow entries, spills that AGS's new
records behind them, and reads the skipped part again afterwards.

Known limits: order holds per aggregate within a source partition (a key change moves an aggregate
to another partition); a "zombie" instance that lost its partitions but keeps writing is not
fenced (no transactions); parked events stay in memory until resolved; events are retried
at-least-once, which the services' inbox turns into exactly-once effects.
"""

from wegweiser.common.engine.config import EngineConfig
from wegweiser.common.engine.consumer import ConsumerEngine
from wegweiser.common.engine.record import Handler, MalformedRecord, Record

__all__ = ["ConsumerEngine", "EngineConfig", "Handler", "MalformedRecord", "Record"]
