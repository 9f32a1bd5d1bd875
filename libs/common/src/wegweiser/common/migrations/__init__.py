"""Schema migrations: each service's Alembic revisions, applied up to head when the service starts.

Every service keeps its revisions in its own package (``wegweiser/<service>/migrations/versions``,
shipped in the wheel) and records them in its own version table (``alembic_version_<service>``), so
services could even share a database. A revision covers the whole database of a service: its own
tables and the common outbox and inbox. The Alembic environment (``env.py``, ``script.py.mako``) is
this package, shared by all services: one env.py instead of four copies.

Several replicas may start at once: on PostgreSQL the upgrade runs under an advisory lock, so one
replica migrates and the others find the schema at head. SQLite is the single-process local default.

A database created by ``create_all`` before migrations existed (the local SQLite files of
``./dev up``) has the service's tables but no version table: it is stamped with the initial revision,
then upgraded as usual.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, TypeDecorator, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from wegweiser.common.db import COMMON_METADATA, create_engine
from wegweiser.common.leadership import exclusive, lock_key

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "wegweiser.migrations"  # each service registers its ``Migrations`` here


def _never(_name: str) -> bool:
    return False


@dataclass(frozen=True)
class Migrations:
    """A service's revisions (``directory``/versions) and the tables they produce (``metadata`` + common)."""

    service: str
    directory: Path
    metadata: MetaData
    # Tables the service creates at run time, outside migrations (statistics' generation tables).
    runtime_table: Callable[[str], bool] = _never
    target_metadata: MetaData = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        merged = MetaData()
        for table in (*COMMON_METADATA.sorted_tables, *self.metadata.sorted_tables):
            table.to_metadata(merged)
        object.__setattr__(self, "target_metadata", merged)

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.service}"

    def config(self, connection: Connection | None = None) -> Config:
        """Alembic's configuration, built in code (no alembic.ini): env.py takes ``connection`` from it."""
        config = Config()
        config.set_main_option("script_location", str(Path(__file__).parent))
        config.set_main_option("version_locations", str(self.directory / "versions"))
        config.set_main_option("path_separator", "os")
        config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
        # New revision files come out formatted and import-sorted, as CI's ruff expects them.
        config.set_section_option("post_write_hooks", "hooks", "ruff_format, ruff_fix")
        for name, options in (("ruff_format", "format"), ("ruff_fix", "check --fix")):
            config.set_section_option("post_write_hooks", f"{name}.type", "module")
            config.set_section_option("post_write_hooks", f"{name}.module", "ruff")
            config.set_section_option(
                "post_write_hooks", f"{name}.options", f"{options} REVISION_SCRIPT_FILENAME"
            )
        config.attributes.update(migrations=self, connection=connection, applied=[])
        return config


def discover() -> dict[str, Migrations]:
    """The migrations of every installed service, by service name (entry points, so common imports none)."""
    found = {ep.name: ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return dict(sorted(found.items()))


# --- env.py -----------------------------------------------------------------------------------------


def run_environment() -> None:
    """The body of env.py: migrate the connection that ``Migrations.config`` carries."""
    config = context.config
    migrations: Migrations = config.attributes["migrations"]
    connection: Connection | None = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `wegweiser migrations ...` or wegweiser.common.migrations")
    context.configure(connection=connection, **_context_options(migrations, config.attributes["applied"]))
    with context.begin_transaction():
        context.run_migrations()


def _context_options(migrations: Migrations, applied: list[str] | None = None) -> dict[str, Any]:
    """What env.py and the drift check both configure, so they compare the same way."""

    def include_name(name: str | None, type_: str, _parents: Any) -> bool:
        # Other services' version tables (a shared database) and tables made at run time are not ours.
        if type_ != "table" or name is None:
            return True
        return not (name.startswith("alembic_version") or migrations.runtime_table(name))

    def on_version_apply(*, step: Any, **_: Any) -> None:
        if applied is not None and not step.is_stamp:
            applied.append(f"{step.up_revision_id} ({step.up_revision.doc})")

    return {
        "target_metadata": migrations.target_metadata,
        "version_table": migrations.version_table,
        "render_as_batch": True,  # ALTERs that SQLite can run too (a table copy there)
        "compare_type": True,
        "include_name": include_name,
        "render_item": _render_item,
        "on_version_apply": on_version_apply,
    }


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """sqlmodel's column types are plain SQL types with Python-side conversion (``AutoString`` is a
    VARCHAR, ``UTCDateTime`` a timestamp with time zone): render the SQL type, so revisions need no
    sqlmodel and stay valid when sqlmodel changes."""
    if type_ == "type" and isinstance(obj, TypeDecorator) and type(obj).__module__.startswith("sqlmodel"):
        return f"sa.{obj.impl_instance!r}"
    return False


# --- running ----------------------------------------------------------------------------------------


async def upgrade_database(engine: AsyncEngine, migrations: Migrations) -> list[str]:
    """Bring the database to head; returns the revisions applied (none when it was at head already)."""
    # One migrating replica at a time on PostgreSQL (a session lock: freed if the process dies).
    async with exclusive(engine, lock_key(migrations.version_table)), engine.connect() as conn:
        applied: list[str] = await conn.run_sync(_upgrade, migrations)
    current = await current_revision(engine, migrations)
    if applied:
        log.info("%s: applied migrations %s; now at %s", migrations.service, ", ".join(applied), current)
    else:
        log.info("%s: database schema at %s, no migration to apply", migrations.service, current)
    return applied


def _upgrade(connection: Connection, migrations: Migrations) -> list[str]:
    config = migrations.config(connection)
    _adopt_created_database(connection, config, migrations)
    command.upgrade(config, "head")
    connection.commit()  # SQLite has no transactional DDL: Alembic left its statements to us
    applied: list[str] = config.attributes["applied"]
    return applied


def _adopt_created_database(connection: Connection, config: Config, migrations: Migrations) -> None:
    """Tables of the service but no version table: made by ``create_all`` before migrations; stamp them."""
    existing = set(inspect(connection).get_table_names())
    connection.commit()
    if migrations.version_table in existing or not existing & set(migrations.metadata.tables):
        return
    initial = ScriptDirectory.from_config(config).get_base()
    assert initial is not None
    command.stamp(config, initial)
    connection.commit()
    log.warning(
        "%s: tables without %s (made by create_all before migrations): stamped the initial revision %s",
        migrations.service,
        migrations.version_table,
        initial,
    )


async def current_revision(engine: AsyncEngine, migrations: Migrations) -> str | None:
    def read(connection: Connection) -> str | None:
        ctx = MigrationContext.configure(connection, opts={"version_table": migrations.version_table})
        return ctx.get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)


async def differences(engine: AsyncEngine, migrations: Migrations) -> list[Any]:
    """What autogenerate would put into a new revision: empty when the migrations match the models."""

    def compare(connection: Connection) -> list[Any]:
        ctx = MigrationContext.configure(connection, opts=_context_options(migrations))
        return list(compare_metadata(ctx, migrations.target_metadata))

    async with engine.connect() as conn:
        return await conn.run_sync(compare)


# --- developer commands -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _engine_for(database_url: str | None) -> Any:
    """The given database, or a new SQLite file that lives as long as the command."""
    with tempfile.TemporaryDirectory(prefix="wegweiser-migrations-") as tmp:
        engine = create_engine(database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'scratch.db'}")
        try:
            yield engine
        finally:
            await engine.dispose()


async def upgrade_url(migrations: Migrations, database_url: str) -> list[str]:
    """``upgrade_database`` for a URL: a prestart step or an operator's command."""
    async with _engine_for(database_url) as engine:
        return await upgrade_database(engine, migrations)


async def new_revision(migrations: Migrations, *, message: str, database_url: str | None = None) -> Path:
    """Autogenerate a revision from the difference between head and the models; returns its file."""
    async with _engine_for(database_url) as engine:
        await upgrade_database(engine, migrations)

        def revise(connection: Connection) -> Any:
            return command.revision(migrations.config(connection), message=message, autogenerate=True)

        async with engine.connect() as conn:
            script = await conn.run_sync(revise)
    return Path(script.path)


async def check(migrations: Migrations, *, database_url: str | None = None) -> list[Any]:
    """Upgrade a scratch database to head and compare it with the models (what the CI test does)."""
    async with _engine_for(database_url) as engine:
        await upgrade_database(engine, migrations)
        return await differences(engine, migrations)
