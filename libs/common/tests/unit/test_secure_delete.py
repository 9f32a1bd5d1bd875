"""An erased row is not readable in the SQLite files afterwards (secure_delete + WAL checkpoint)."""

from pathlib import Path

from sqlalchemy import text

from wegweiser.common.db import create_engine, forget_deleted_bytes

NAME = "Zzyzxbetancourt-Oyelaran"


async def _raw_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def test_a_deleted_name_is_gone_from_the_database_and_its_log(tmp_path: Path) -> None:
    path = tmp_path / "erase.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE persons (id INTEGER PRIMARY KEY, name TEXT)"))
            for i in range(200):
                name = f"{NAME}-{i}" if i % 2 else f"Keep-{i}"
                await conn.execute(text("INSERT INTO persons (name) VALUES (:n)"), {"n": name})
        await forget_deleted_bytes(engine)
        assert NAME.encode() in await _raw_bytes(path)  # the probe finds what is there
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM persons WHERE name LIKE :n"), {"n": f"{NAME}%"})
        await forget_deleted_bytes(engine)
        remaining = await _raw_bytes(path)
        assert NAME.encode() not in remaining
        assert b"Keep-" in remaining
    finally:
        await engine.dispose()


def test_the_probe_sees_deleted_bytes_when_secure_delete_is_off(tmp_path: Path) -> None:
    """The control: without secure_delete the same erasure leaves the name readable (this SQLite may
    default to on; our engines set it explicitly so a build that defaults to off cannot leak)."""
    import sqlite3

    path = tmp_path / "control.db"
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA secure_delete=OFF")
        connection.execute("CREATE TABLE persons (id INTEGER PRIMARY KEY, name TEXT)")
        connection.executemany(
            "INSERT INTO persons (name) VALUES (?)",
            [(f"{NAME}-{i}" if i % 2 else f"Keep-{i}",) for i in range(200)],
        )
        connection.commit()
        connection.execute("DELETE FROM persons WHERE name LIKE ?", (f"{NAME}%",))
        connection.commit()
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    assert NAME.encode() in path.read_bytes()
