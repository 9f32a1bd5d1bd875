"""The project's command line: ``wegweiser token|topics|dlq|dev|migrations``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from importlib.metadata import entry_points

from wegweiser.common import devtokens, subject_access_all, topics
from wegweiser.common.auth import ROLES


def _token(args: argparse.Namespace) -> None:
    print(
        devtokens.mint(
            subject=args.subject or f"dev-{args.role}",
            roles=[args.role],
            ttl_s=args.ttl,
            authority_id=args.authority,
            provider_id=args.provider,
            partner_id=args.partner,
            ags=args.ags or None,
        )
    )


def _topics(args: argparse.Namespace) -> None:
    created = asyncio.run(topics.ensure_topics(args.bootstrap_servers))
    print(f"created: {', '.join(created) or 'none'}; all {len(topics.ALL)} topics present")


def _dev_up(args: argparse.Namespace) -> None:
    from wegweiser.common import devstack

    sys.exit(devstack.up(seed_demo=not args.no_seed))


def _migrations(args: argparse.Namespace) -> None:
    from wegweiser.common import migrations

    services = migrations.discover()
    chosen = [services[args.service]] if args.service else list(services.values())
    if args.migrations_command == "revision":
        path = asyncio.run(
            migrations.new_revision(chosen[0], message=args.message, database_url=args.database_url)
        )
        print(f"wrote {path}: read it, tidy it, run the tests (README: Schema migrations)")
    elif args.migrations_command == "upgrade":
        applied = asyncio.run(migrations.upgrade_url(chosen[0], args.database_url))
        print(f"{args.service}: applied {', '.join(applied) or 'nothing'}")
    else:
        failed = False
        for m in chosen:
            found = asyncio.run(migrations.check(m, database_url=args.database_url))
            print(f"{m.service}: " + ("migrations match the models" if not found else "NOT IN MIGRATIONS:"))
            for difference in found:
                print(f"  {difference}")
            failed = failed or bool(found)
        sys.exit(1 if failed else 0)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="wegweiser", description="Wegweiser operator and developer commands")
    commands = root.add_subparsers(dest="command", required=True)

    token = commands.add_parser("token", help="mint a development JWT (local key pair, never production)")
    token.add_argument("--role", choices=ROLES, required=True)
    token.add_argument("--subject")
    token.add_argument("--authority", help="authority id (reception_authority)")
    token.add_argument("--provider", help="provider id (counsellor, supervisor)")
    token.add_argument("--partner", help="partner id (partner)")
    token.add_argument("--ags", action="append", help="municipality key in scope; repeat for several")
    token.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds")
    token.set_defaults(run=_token)

    subject_access_all.add_command(commands)

    topic = commands.add_parser("topics", help="create or check every declared topic")
    topic.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    topic.set_defaults(run=_topics)

    dev = commands.add_parser("dev", help="local development stack")
    dev_commands = dev.add_subparsers(dest="dev_command", required=True)
    up = dev_commands.add_parser(
        "up", help="start Kafka and the four services, seed a demo; Ctrl-C stops all"
    )
    up.add_argument("--no-seed", action="store_true")
    up.set_defaults(run=_dev_up)

    from wegweiser.common.migrations import ENTRY_POINT_GROUP

    services = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    migrations = commands.add_parser("migrations", help="the services' schema migrations (Alembic)")
    migration_commands = migrations.add_subparsers(dest="migrations_command", required=True)
    revision = migration_commands.add_parser(
        "revision", help="autogenerate a revision from the models' difference to head"
    )
    revision.add_argument("--service", choices=services, required=True)
    revision.add_argument("-m", "--message", required=True, help="what changes, e.g. 'add cases.priority'")
    revision.add_argument("--database-url", help="compare against this database (default: a scratch SQLite)")
    upgrade = migration_commands.add_parser(
        "upgrade", help="upgrade a database to head (services do it at start)"
    )
    upgrade.add_argument("--service", choices=services, required=True)
    upgrade.add_argument("--database-url", required=True)
    check = migration_commands.add_parser("check", help="fail if the models differ from head (as CI does)")
    check.add_argument("--service", choices=services, help="default: every service")
    check.add_argument("--database-url", help="upgrade and compare this database (default: a scratch SQLite)")
    for command in (revision, upgrade, check):
        command.set_defaults(run=_migrations)

    from wegweiser.common.engine.dlq_command import add_dlq_commands

    add_dlq_commands(commands)
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
