"""Test support for casework: development tokens, request bodies and events its tests share.

Used by the unit and integration tests only; nothing in the service imports it.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from wegweiser.casework.domain.model import CasePerson
from wegweiser.common import devtokens, events
from wegweiser.common.auth import Principal

STUTTGART = "08111000"
# Stuttgart's counsellor as the handlers see her (the API's ``bearer()`` default, decoded).
COUNSELLOR = Principal(
    subject="s-mueller",
    roles=frozenset({"counsellor"}),
    provider_id="kreis-08111",
    ags=frozenset({STUTTGART}),
)


def bearer(
    dev_keys: Path,
    subject: str = "s-mueller",
    role: str = "counsellor",
    *,
    provider_id: str | None = "kreis-08111",
    ags: Sequence[str] | None = (STUTTGART,),
    language: str | None = None,
) -> dict[str, str]:
    """The Authorization header of a development token, by default Stuttgart's counsellor s-mueller.

    With ``language``, the answers are asked for in that language (``Accept-Language``).
    """
    token = devtokens.mint(
        subject=subject,
        roles=[role],
        key_dir=dev_keys,
        provider_id=provider_id,
        ags=None if ags is None else list(ags),
    )
    headers = {"Authorization": f"Bearer {token}"}
    return headers if language is None else {**headers, "Accept-Language": language}


def hidden(page: str, name: str) -> str:
    """The value of a form's hidden field (``csrf``, ``form_token``) in a page's HTML."""
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden field {name}"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, subject: str) -> None:
    """Sign in to the web UI as a development user (the session cookie stays on ``client``)."""
    response = await client.post("/login", data={"subject": subject, "next": "/cases"})
    assert response.status_code == 303 and "wegweiser_session" in response.cookies


def walk_in(
    family_name: str,
    given_names: str = "Anna",
    *,
    ags: str = STUTTGART,
    opened_on: dt.date | str | None = None,
    **person: Any,
) -> dict[str, Any]:
    """The body of ``POST /v1/cases`` for one person walking in (today, unless ``opened_on``)."""
    day = opened_on or dt.date.today()
    return {
        "ags": ags,
        "opened_on": day if isinstance(day, str) else day.isoformat(),
        "persons": [{"family_name": family_name, "given_names": given_names, **person}],
    }


async def open_case(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    """Open a case through the API; the created case as JSON."""
    opened = await client.post("/v1/cases", headers=headers, json=body)
    assert opened.status_code == 201, opened.text
    return opened.json()


# Rania Haddad, the household head most tests follow from intake's arrival to a partner's referral.
RANIA: dict[str, Any] = {
    "role": "head",
    "family_name": "Haddad",
    "given_names": "Rania",
    "date_of_birth": "1988-03",
    "phone": "+49 711 1234",
    "email": "rania@example.org",
}


def head_of_household(**changes: Any) -> CasePerson:
    """Rania as a case holds her, with her address; ``changes`` replace any field."""
    return CasePerson(
        **{"person_id": uuid.uuid4(), **RANIA, "address": "Königstraße 1, 70173 Stuttgart", **changes}
    )


def arrived(**changes: Any) -> events.ArrivedPerson:
    """Rania as intake registered her (Arabic-speaking); ``changes`` replace any field."""
    return events.ArrivedPerson(**{"person_id": uuid.uuid4(), **RANIA, "languages": ("ar",), **changes})


def arrival_registered(*persons: events.ArrivedPerson, **changes: Any) -> events.ArrivalRegistered:
    """Intake's event of a household allocated to Stuttgart today (by default Rania alone)."""
    fields: dict[str, Any] = {
        "ags": STUTTGART,
        "arrival_id": uuid.uuid4(),
        "authority_id": "uab-08111",
        "authority_reference": f"R-{uuid.uuid4().hex[:6]}",
        "allocation_date": dt.date.today(),
        "persons": persons or (arrived(),),
        **changes,
    }
    return events.ArrivalRegistered(**fields)
