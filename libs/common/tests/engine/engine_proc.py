"""A consumer process for the SIGKILL test: applies events into SQLite with an inbox, atomically.

usage: python engine_proc.py BOOTSTRAP GROUP TOPIC DB_PATH [INSTANCE_ID]

With INSTANCE_ID the process is a static group member with a 60-s session, as a replica with a stable
name (``WEGWEISER_INSTANCE_ID``) runs.

Each event is applied in one transaction together with its inbox row, like a service handler.
Some first attempts fail (deterministically), so retries are in flight when the process dies.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import signal
import sqlite3
import sys

from wegweiser.common.engine import ConsumerEngine, EngineConfig, Record


def open_db(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA busy_timeout=5000")
    db.execute("CREATE TABLE IF NOT EXISTS inbox (ce_id TEXT PRIMARY KEY)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS applied (seq INTEGER PRIMARY KEY AUTOINCREMENT, ce_id TEXT, subject TEXT)"
    )
    return db


async def main(bootstrap: str, group: str, topic: str, path: str, instance_id: str | None = None) -> None:
    db = open_db(path)

    async def handle(record: Record) -> None:
        await asyncio.sleep(0.001)
        ce_id = record.ce_id or ""
        if record.attempt == 1 and hashlib.sha256(ce_id.encode()).digest()[0] < 26:  # ~10 %
            raise RuntimeError("transient failure")
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("INSERT OR IGNORE INTO inbox VALUES (?)", (ce_id,)).rowcount == 1:
                db.execute("INSERT INTO applied (ce_id, subject) VALUES (?, ?)", (ce_id, record.subject))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    engine = ConsumerEngine(
        bootstrap_servers=bootstrap,
        group_id=group,
        topics=[topic],
        handler=handle,
        config=EngineConfig(
            backoff_initial_s=0.05,
            backoff_max_s=0.2,
            commit_interval_s=0.2,
            session_timeout_ms=60_000 if instance_id else 6_000,
            heartbeat_interval_ms=500,
            max_in_flight_per_ags=4,
            # Small buffers: flooding AGS are deferred and caught up across the kills too.
            max_buffered_per_ags=20,
            max_buffered_per_partition=100,
        ),
        group_instance_id=instance_id,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await engine.start()
    await stop.wait()
    await engine.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main(*sys.argv[1:6]))
