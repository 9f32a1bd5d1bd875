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
                await conn.execute(text("INSERT INTO persons (name) VALUES (:n)"), {"n": f"{NAME}-{i}"})
        await forget_deleted_bytes(engine)
        assert NAME.encode() in await _raw_bytes(path)  # the probe finds what is there
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM persons"))
        await forget_deleted_bytes(engine)
        assert NAME.encode() not in await _raw_bytes(path)
    finally:
        await engine.dispose()
