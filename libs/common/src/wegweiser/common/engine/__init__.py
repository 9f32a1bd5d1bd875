"""The isolation consumer engine: one municipality's load and failures stay its own (docs/architecture.md).

Why beside faststream, not inside it: faststream's Kafka subscriber hands a partition's records to
the handler one at a time (``max_workers`` only adds consumers, capped by the partition count),
``nack()`` redelivers forever and ``ACK`` commits failures. Per-aggregate lanes inside a partition,
a commit at the low-water mark of finished offsets, park/retry/dead-letter and per-AGS bounds need
control over fetching, pausing and committing, so this is a small engine on aiokafka. Services keep
faststream for producing (outbox relay) and AsyncAPI; their typed dispatch (envelope, pydantic
payload, inbox) is the ``Handler`` given to the engine. Each handled event gets a consumer span in
the producer's trace (W3C headers) when a tracer provider is installed.

How it works
------------
* **Lanes.** Within a partition, events of one aggregate (``ce_subject``; else the key; else the
  partition) run strictly in source-offset order, different aggregates concurrently. The offset
  committed is the lowest unfinished one (the model of Confluent's Parallel Consumer), so a restart
  re-delivers only unfinished or recently finished events; the services' inbox makes those no-ops.
* **Fairness and bounds.** Ready lanes wait in one queue per AGS and AGS take turns (round robin),
  with in-flight caps per AGS and per partition. Memory is bounded per AGS and per partition.
  *Overflow path*: an AGS that reaches its own buffer cap does not pause the partition. Its
  further records are **deferred**: left in the log, skipped by the main reader, and re-read in
  order by a separate catch-up reader (no group, same partition) as that AGS gets room again; the
  main reader keeps serving every other AGS at full speed, and takes the AGS back once the
  catch-up reader has reached it. The partition's commit stays at the catch-up cursor meanwhile,
  so a restart simply reads the deferred records again (the lag is real: those events are not
  done). Only when the whole partition's buffer is full — all AGS together, not one — is the
  partition paused. While it is deferred, an AGS runs at most ``max_in_flight_per_deferred_ags``
  handlers at once (default 8 instead of 16): its backlog waits in the log either way, and every
  handler it runs is CPU the one event loop takes from everyone else (noisy-neighbour bench).
  Deferred records are recognized by their raw key bytes. Deferring costs the flood one extra read
  and nothing else: no copy is written
  (spilling to the retry topic, tried first, made every flooding event cost a produce request and
  a broker write on the consumer's own CPU). What bounds cannot isolate is CPU: a flood is still
  fetched once by the main reader, which skips a deferred AGS's records before parsing them (only
  aiokafka's unpacking remains), and re-read in small batches by the catch-up reader as its AGS
  gets room (see bench/README.md).
* **Holding back a backlog.** Bounds and turns share one event loop, not the machine's cores: a
  flood that saturates them delays everyone's events in every process. So while this process's
  loop runs late (``hold_late_ms``, measured every 50 ms by ``lateness``), an AGS with a backlog
  (``hold_backlog_per_ags`` events buffered in the partition, or deferred) starts at most one event
  every ``hold_trickle_s``; when the loop is on time again it runs at its full share. The cores go
  first to the municipalities with an event or two waiting; the backlog waits, which it does anyway.
* **Pauses.** One event loop serves every partition, so anything that stops it delays everyone.
  ``start()`` freezes the objects alive then (``gc.freeze()``, ``EngineConfig.gc_freeze``): the
  collector's full collections otherwise re-scanned the whole heap every few hundred thousand
  allocations, 40-80 ms each, and a flood's buffered events, which live long enough to reach the
  oldest generation, made them frequent. Handler tasks are reused (an idle task is handed the
  next ready event), and latency is bucketed by the engine instead of the SDK's per-call histogram.
* **Park, retry, dead-letter.** A failed event stays at the head of its lane (the lane is parked;
  other lanes continue) and is retried with exponential back-off up to ``max_attempts``, then
  dead-lettered; the lane stays parked until an operator replays or discards the entry
  (`wegweiser.common.engine.dlq_command`). ``MalformedRecord`` is dead-lettered at once; it parks its
  aggregate when the record names one (``ce_subject``), since later events of it must not be applied
  without it, and parks nothing otherwise (there is no aggregate to protect). ``NotYet`` (the record
  waits for another topic's event, e.g. a person key) is retried every ``not_yet_retry_s`` without
  counting an attempt, for ``not_yet_budget_s`` after the event was written.

Durability of retries: the retry topic (not commit metadata, not a lock topic)
-------------------------------------------------------------------------------
Commit metadata (4 KB) cannot hold an aggregate that stays parked for days, and holding the source
offset back that long would stall the partition's commit for everyone; a lock topic would still
need somewhere to keep the waiting events. So every event carries its source offset
(``wg_src_offset``) onto ``<topic>.retry.<group>`` and ``<topic>.dlq.<group>``, whose partition *p*
holds copies from source partition *p* only (same partition count; the range assignor gives all
three partitions *p* to one member). A copy is written (acks=all, idempotent producer) before the
offset it replaces is released for commit:

* a failed event's next attempt (``wg_attempt``, due time ``wg_due_ms``) goes to the retry topic,
  and so does every later event of its aggregate that only the source topic held (``follower``);
* after the last attempt the event goes to the DLQ (``dead``, with error type and message, attempt
  count, original topic/partition/offset, original headers, group), followed by its aggregate's
  waiting events (``parked``): the DLQ is the park store, kept 90 days or the source's shorter
  retention, not the retry topic's 7 days;
* an operator's replay is a copy on the retry topic (original headers, so the original ``ce_id``)
  plus a ``replayed`` resolution record on the DLQ; a discard is a ``discarded`` record; the engine
  marks parked entries it later applied as ``released``.

Retry and DLQ offsets stay uncommitted while their event is unfinished. After a restart (even
SIGKILL) or a rebalance, the new owner reads partition *p* of the DLQ and the retry topic up to
their end before it reads the source. Copies of one event merge by source offset, so an aggregate
is rebuilt in order from whichever copies exist, and duplicates from an unlucky crash are harmless.
A resolution (discard) is remembered, and its DLQ entry kept uncommitted, until no older copy of
the event can be read again. These rules are checked by a model-based test that crashes,
re-reads and resolves at random (tests/engine/test_scheduler.py, `sim.py`).

Where each part lives
---------------------
``consumer`` (``ConsumerEngine``: clients, rebalances, pairs) drives the Kafka side through
``reading`` (the group's reader and the catch-up reader), ``running`` (handler tasks, one span per
event), ``sending`` (retry/park/dead-letter copies), ``commits`` and ``metrics``; ``pairs`` is the
unit they share. ``scheduler`` (``PartitionWork``, no I/O) decides per partition, built from
``lanes`` (what is in memory, where a parked lane waits), ``fairness`` (whose turn it is),
``parking`` (retry, dead-letter, resolutions) and ``catchup`` (deferral), with ``items``,
``offsets`` and ``copy_headers`` underneath; ``retry_topics`` creates the group's topics and
``dlq_command`` is the operators' ``wegweiser dlq`` command.

Known limits: order holds per aggregate within a source partition (a key change moves an aggregate
to another partition, where Kafka gives no order either); all members of a group must subscribe to
the same topics (range assignment co-locates partition *p* of source, retry and DLQ); a "zombie"
member that lost its partitions but keeps writing is not fenced (no transactions); parked events
stay in memory until resolved; while an AGS is deferred, a restart re-reads (and the inbox skips)
every event after the catch-up cursor; a DLQ entry older than the DLQ's retention is deleted by Kafka, and
its aggregate then continues without it — operators must act within retention (watch the
``parked`` gauge); events are delivered at least once, which the services' inbox turns into
exactly-once effects.
"""

from wegweiser.common.engine.config import EngineConfig
from wegweiser.common.engine.consumer import ConsumerEngine
from wegweiser.common.engine.record import Handler, MalformedRecord, NotYet, Record

__all__ = ["ConsumerEngine", "EngineConfig", "Handler", "MalformedRecord", "NotYet", "Record"]
