"""Each service's migrations build exactly the schema of its models, on PostgreSQL and on SQLite.

A model change without a revision fails here (the comparison is Alembic's autogenerate), and so does a
revision that differs from the models. README "Schema migrations" says how to add one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, Table, insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from wegweiser.casework.db import AuditRow
from wegweiser.casework.migrations import MIGRATIONS as CASEWORK
from wegweiser.common import cli
from wegweiser.common.db import create_engine
from wegweiser.common.migrations import Migrations, current_revision, differences, upgrade_database
from wegweiser.intake.migrations import MIGRATIONS as INTAKE
from wegweiser.referrals.migrations import MIGRATIONS as REFERRALS
from wegweiser.statistics.generations import Generations
from wegweiser.statistics.migrations import MIGRATIONS as STATISTICS

SERVICES = [pytest.param(m, id=m.service) for m in (INTAKE, CASEWORK, REFERRALS, STATISTICS)]
BACKENDS = [pytest.param("postgresql", marks=pytest.mark.integration), "sqlite"]


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh PostgreSQL database or a new SQLite file."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("database_url"))
    return f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"


@pytest.fixture
async def engine(empty_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(empty_database)
    yield engine
    await engine.dispose()


def history(migrations: Migrations) -> list[str]:
    """Every revision as ``upgrade_database`` reports it when applied, base first."""
    script = ScriptDirectory.from_config(migrations.config())
    return [f"{r.revision} ({r.doc})" for r in reversed(list(script.walk_revisions()))]


def revisions(migrations: Migrations) -> list[str]:
    return [entry.split()[0] for entry in history(migrations)]


@pytest.mark.parametrize("migrations", SERVICES)
async def test_migrations_build_exactly_the_models_and_a_second_run_is_a_no_op(
    engine: AsyncEngine, migrations: Migrations
) -> None:
    applied = await upgrade_database(engine, migrations)

    assert applied == history(migrations)
    assert await differences(engine, migrations) == []
    assert await upgrade_database(engine, migrations) == []
    assert await current_revision(engine, migrations) == revisions(migrations)[-1]


@pytest.mark.parametrize("migrations", SERVICES)
async def test_a_database_made_by_create_all_is_stamped_then_upgraded(
    engine: AsyncEngine, migrations: Migrations
) -> None:
    """As before migrations: the initial revision's tables, no version table."""
    initial = revisions(migrations)[0]
    async with engine.connect() as conn:
        await conn.run_sync(lambda c: command.upgrade(migrations.config(c), initial))
        await conn.execute(text(f"DROP TABLE {migrations.version_table}"))
        await conn.commit()

    assert await upgrade_database(engine, migrations) == history(migrations)[1:]
    assert await current_revision(engine, migrations) == revisions(migrations)[-1]
    assert await differences(engine, migrations) == []


async def test_a_model_change_without_a_revision_is_reported(engine: AsyncEngine) -> None:
    """The check above cannot pass vacuously: a new column and a new table show up as differences."""
    await upgrade_database(engine, INTAKE)
    changed = MetaData()
    for table in INTAKE.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["arrivals"].append_column(Column("priority", Integer))
    Table("arrival_notes", changed, Column("id", Integer, primary_key=True))
    drifted = Migrations(service="intake", directory=INTAKE.directory, metadata=changed)

    found = await differences(engine, drifted)

    assert sorted(d[0] if isinstance(d, tuple) else d[0][0] for d in found) == ["add_column", "add_table"]


@pytest.mark.integration
async def test_replicas_starting_together_migrate_once(database_url: str) -> None:
    """The advisory lock: without it both would create the same tables and one would fail."""
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        results = await asyncio.gather(*(upgrade_database(e, CASEWORK) for e in engines))
        assert sorted(len(applied) for applied in results) == [0, 0, len(revisions(CASEWORK))]
        assert await differences(engines[0], CASEWORK) == []
    finally:
        for e in engines:
            await e.dispose()


async def test_casework_audit_log_is_append_only_in_the_database(engine: AsyncEngine) -> None:
    """Triggers, which autogenerate cannot compare: the initial revision creates them on both backends."""
    await upgrade_database(engine, CASEWORK)
    async with engine.begin() as conn:
        await conn.execute(
            insert(AuditRow).values(
                at=dt.datetime.now(dt.UTC), actor="a", actor_role="r", action="x", detail={}
            )
        )
    for statement in ("UPDATE audit_log SET actor = 'b'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))


async def test_statistics_generation_tables_are_not_schema_drift(engine: AsyncEngine) -> None:
    """Each rebuild creates its own generation tables at run time; migrations leave them alone."""
    await upgrade_database(engine, STATISTICS)
    await Generations(engine, async_sessionmaker(engine)).create(live_offsets={})

    assert await differences(engine, STATISTICS) == []
    assert await upgrade_database(engine, STATISTICS) == []


def test_the_cli_check_passes_for_every_service(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["migrations", "check"])

    assert exited.value.code == 0
    assert capsys.readouterr().out.count("migrations match the models") == 4
