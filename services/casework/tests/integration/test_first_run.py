"""What a newcomer meets first (issue 14): the development users in the order to try them, each with a
line on what they see, and the caseload's first view showing the new cases nobody has taken yet."""

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from wegweiser.casework.app import build
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.common import devtokens
from wegweiser.common.testing.apps import running

pytestmark = pytest.mark.integration

STUTTGART = "08111000"
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
    supervisor = devtokens.mint(
        subject="bc-maier", roles=["supervisor"], key_dir=dev_keys, provider_id="kreis-08426", ags=[BIBERACH]
    )
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        opened = await client.post(
            "/v1/cases",
            headers={"Authorization": f"Bearer {supervisor}"},
            json={
                "ags": BIBERACH,
                "opened_on": dt.date.today().isoformat(),
                "persons": [{"family_name": "Erstens", "given_names": "Ali"}],
            },
        )
        assert opened.status_code == 201, opened.text
        page = (await client.get("/login")).text
    subjects = re.findall(r'data-subject="([^"]+)"', page)
    assert set(subjects[:2]) == {"bc-hager", "bc-kaya"}  # Biberach's counsellors
    assert subjects.index("bc-maier") < subjects.index("s-weber")  # among supervisors too


async def test_the_first_view_of_the_caseload_shows_new_unassigned_cases(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    supervisor = devtokens.mint(
        subject="s-weber", roles=["supervisor"], key_dir=dev_keys, provider_id="kreis-08111", ags=[STUTTGART]
    )
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        opened = await client.post(
            "/v1/cases",
            headers={"Authorization": f"Bearer {supervisor}"},
            json={
                "ags": STUTTGART,
                "opened_on": dt.date.today().isoformat(),
                "persons": [{"family_name": "Wartend", "given_names": "Nora"}],
            },
        )
        assert opened.status_code == 201, opened.text
        assert opened.json()["counsellor_id"] is None
        login = await client.post("/login", data={"subject": "s-mueller", "next": "/cases"})
        assert login.status_code == 303
        first = (await client.get("/cases")).text
        mine_only = (await client.get("/cases", params={"view": "mine"})).text
    assert "Neue, noch nicht zugewiesene Fälle" in first
    assert "Wartend" in first
    assert "Wartend" not in mine_only  # an explicit choice of view shows just that view
