"""SQL that reads the same on PostgreSQL (production) and SQLite (the zero-setup local default)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_insert(session: AsyncSession, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into ``table`` (a Table or a mapped class) that can say ON CONFLICT DO NOTHING or DO
    UPDATE on whichever of the two ``session`` writes to: core's plain INSERT cannot."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
