"""Names as people write them (issue 13 item 5): stored in NFC, invisible characters refused, and search
that folds accents, Turkish ı and Cyrillic, for new cases and, after the data migration, for old ones."""

import datetime as dt
import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command

from wegweiser.casework.app import build
from wegweiser.casework.migrations import MIGRATIONS
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.casework.testing import STUTTGART, bearer, walk_in
from wegweiser.common.db import create_engine
from wegweiser.common.migrations import upgrade_database
from wegweiser.common.testing.apps import running

pytestmark = pytest.mark.integration

DECOMPOSED = "Ne\u0301meth"  # e and a combining acute accent, as some keyboards and files send it
INITIAL = "ecfb11e25000"  # the revision before search names were folded


async def found(client: httpx.AsyncClient, headers: dict[str, str], name: str) -> list[str]:
    response = await client.get("/v1/cases", headers=headers, params={"name": name})
    assert response.status_code == 200, response.text
    return [c["case_id"] for c in response.json()]


async def test_search_finds_names_as_people_type_them(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    headers = bearer(dev_keys, language="en")
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        ids = {}
        for name in (DECOMPOSED, "Yılmaz", "Шевченко"):
            opened = await client.post("/v1/cases", headers=headers, json=walk_in(name))
            assert opened.status_code == 201, opened.text
            ids[name] = opened.json()["case_id"]
        assert await found(client, headers, "Nemeth") == [ids[DECOMPOSED]]
        assert await found(client, headers, "Németh") == [ids[DECOMPOSED]]
        assert await found(client, headers, "Yilmaz") == [ids["Yılmaz"]]
        assert await found(client, headers, "Shevchenko anna") == [ids["Шевченко"]]
        case = (await client.get(f"/v1/cases/{ids[DECOMPOSED]}", headers=headers)).json()
        assert case["persons"][0]["family_name"] == "N\u00e9meth"  # stored in NFC


async def test_a_name_with_a_bidi_override_is_refused_naming_the_character(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    headers = bearer(dev_keys, language="en")
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        refused = await client.post("/v1/cases", headers=headers, json=walk_in("Haddad\u202e", "Rania"))
        contact = await client.post("/v1/cases", headers=headers, json=walk_in("Haddad"))
        case_id = contact.json()["case_id"]
        case = (await client.get(f"/v1/cases/{case_id}", headers=headers)).json()
        person_id = case["persons"][0]["person_id"]
        address = await client.put(
            f"/v1/cases/{case_id}/persons/{person_id}/contact",
            headers=headers,
            json={"address": "Hauptstr. 1\u200b"},
        )
    assert refused.status_code == 422, refused.text
    assert "U+202E" in refused.text
    assert address.status_code == 422, address.text
    assert "U+200B" in address.text


async def test_the_data_migration_folds_the_search_names_already_stored(database_url: str) -> None:
    engine = create_engine(database_url)
    case_id = uuid.uuid4()
    persons = [
        {"family_name": "Yılmaz", "given_names": "Deniz"},
        {"family_name": "Шевченко", "given_names": "Олена"},
    ]
    try:
        async with engine.connect() as conn:
            await conn.run_sync(lambda c: command.upgrade(MIGRATIONS.config(c), INITIAL))
            await conn.execute(
                sa.text(
                    "INSERT INTO cases (case_id, ags, provider_id, walk_in, opened_on, status, persons, "
                    "search_names) VALUES (:id, :ags, 'kreis-08111', true, :on, 'open', :persons, :names)"
                ),
                {
                    "id": case_id,
                    "ags": STUTTGART,
                    "on": dt.date.today(),
                    "persons": json.dumps(persons),
                    "names": "yılmaz deniz | шевченко олена",  # as the earlier .lower() stored them
                },
            )
            await conn.commit()
        await upgrade_database(engine, MIGRATIONS)
        async with engine.connect() as conn:
            stored = (await conn.execute(sa.text("SELECT search_names FROM cases"))).scalar_one()
    finally:
        await engine.dispose()
    assert stored == "yilmaz deniz | shevchenko olena"


async def test_the_web_forms_store_names_in_nfc_and_refuse_invisible_characters(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    headers = bearer(dev_keys, language="en")
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        assert (await client.post("/login", data={"subject": "s-mueller"})).status_code == 303
        csrf = re.search(r'name="csrf" value="([^"]+)"', (await client.get("/cases/new")).text)
        assert csrf
        form = {"csrf": csrf.group(1), "ags": STUTTGART, "opened_on": dt.date.today().isoformat()}
        refused = await client.post(
            "/cases/new", data={**form, "family_name": "Haddad\u202e", "given_names": "R"}
        )
        opened = await client.post(
            "/cases/new", data={**form, "family_name": DECOMPOSED, "given_names": "Web"}
        )
        assert opened.status_code == 303, opened.text
        case_id = opened.headers["location"].split("/")[2].split("?")[0]
        person = (await client.get(f"/v1/cases/{case_id}", headers=headers)).json()["persons"][0]
        contact = await client.post(
            f"/cases/{case_id}/persons/{person['person_id']}/contact",
            data={"csrf": csrf.group(1), "address": "Hauptstr.\u202e 1"},
        )
    assert refused.status_code == 422 and "U+202E" in refused.text
    assert person["family_name"] == "N\u00e9meth"
    assert contact.status_code == 422 and "U+202E" in contact.text
