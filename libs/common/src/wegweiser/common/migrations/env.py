"""Alembic's env.py for every service: the service's revisions are run by ``run_environment``."""

from wegweiser.common.migrations import run_environment

run_environment()
