"""What a newcomer meets first (issue 14): the development users in the order to try them, each with a
line on what they see, and the caseload's first view showing the new cases nobody has taken yet."""

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from wegweiser.casework.app import build
from wegweiser.casework.seed import seed_at_start, seed_development_data
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.casework.testing import bearer, open_case, walk_in
from wegweiser.common.testing.apps import running

pytestmark = pytest.mark.integration

BIBERACH = "08426021"


async def test_the_login_page_lists_counsellors_first_and_says_what_each_user_sees(
    casework_env: dict[str, Any], database_url: str
) -> None:
    # On SQLite the admin (no provider) used to come first; on PostgreSQL a provider's supervisor
    # came before other providers' counsellors.
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        page = (await client.get("/login")).text
    subjects = re.findall(r'data-subject="([^"]+)"', page)
    assert subjects[0] in {"s-mueller", "s-yilmaz", "c-nowak", "bc-hager", "bc-kaya"}  # a counsellor
    assert subjects[-1] == "admin"  # sees no case: the last to try
    first_supervisor = min(subjects.index(s) for s in ("s-weber", "c-schmid", "bc-maier"))
    last_counsellor = max(
        subjects.index(s) for s in ("s-mueller", "s-yilmaz", "c-nowak", "bc-hager", "bc-kaya")
    )
    assert last_counsellor < first_supervisor
    assert "Zum Einstieg" in page and "sieht keine Fälle" in page


async def test_within_a_role_users_whose_provider_has_open_cases_come_first(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    """Without this, Caritas's counsellor came first while every arrival went to the Kreis providers."""
    supervisor = bearer(dev_keys, "bc-maier", "supervisor", provider_id="kreis-08426", ags=[BIBERACH])
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        await open_case(client, supervisor, walk_in("Erstens", "Ali", ags=BIBERACH))
        page = (await client.get("/login")).text
    subjects = re.findall(r'data-subject="([^"]+)"', page)
    assert set(subjects[:2]) == {"bc-hager", "bc-kaya"}  # Biberach's counsellors
    assert subjects.index("bc-maier") < subjects.index("s-weber")  # among supervisors too


async def test_the_first_view_of_the_caseload_shows_new_unassigned_cases(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    supervisor = bearer(dev_keys, "s-weber", "supervisor")
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        opened = await open_case(client, supervisor, walk_in("Wartend", "Nora"))
        assert opened["counsellor_id"] is None
        login = await client.post("/login", data={"subject": "s-mueller", "next": "/cases"})
        assert login.status_code == 303
        first = (await client.get("/cases")).text
        mine_only = (await client.get("/cases", params={"view": "mine"})).text
    assert "Neue, noch nicht zugewiesene Fälle" in first
    assert "Wartend" in first
    assert "Wartend" not in mine_only  # an explicit choice of view shows just that view


async def test_two_replicas_starting_together_seed_the_directory_once(
    casework_env: dict[str, Any], database_url: str
) -> None:
    """Both find the directory empty; the one that loses the race must still start (it exited with 3)."""
    settings = CaseworkSettings(database_url=database_url, **casework_env)
    first, second = (build(settings).state.runtime for _ in (1, 2))
    await first.migrate()
    try:
        async with first.unit_of_work() as holding:
            assert await seed_development_data(holding.org)
            await holding.session.flush()  # inserted, not committed: the other's inserts wait on these rows
            late = asyncio.create_task(seed_at_start(second.unit_of_work))
            await asyncio.sleep(1.0)
            assert not late.done()
            await holding.commit()
        assert await late is False
    finally:
        for runtime in (first, second):
            await runtime.db.dispose()
