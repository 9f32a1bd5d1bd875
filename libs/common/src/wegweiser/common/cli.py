"""The project's command line: ``wegweiser token|topics|dlq|dev``."""

from __future__ import annotations

import argparse
import asyncio
import sys

from wegweiser.common import devtokens, topics
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

    from wegweiser.common.engine.operator import add_dlq_commands

    add_dlq_commands(commands)
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
