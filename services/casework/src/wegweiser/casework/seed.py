"""The development data set: a few real-looking provider organisations, teams and people (no clients).

Stuttgart is a Stadtkreis, so its own Integrationsmanagement is the Kreis's default provider
(``kreis-08111``); a welfare organisation works beside it in the same city. Landkreis Biberach's
Landratsamt runs Integrationsmanagement for all its municipalities (``kreis-08426``). Loaded at
start-up into an empty database, only in development (see ``CaseworkSettings.seed_enabled``).
"""

from __future__ import annotations

from collections.abc import Callable

from wegweiser.casework.db import OrgRepository, ProviderRow, StaffRow, TeamRow
from wegweiser.casework.handlers import CaseworkUnitOfWork
from wegweiser.common.db import again_after_conflict
from wegweiser.common.regions import catalogue

STUTTGART = "08111000"
BIBERACH_KREIS = "08426"


def biberach_municipalities() -> list[str]:
    return sorted(
        m.ags
        for m in catalogue().municipalities.values()
        if m.kreis_ags == BIBERACH_KREIS and m.population > 0
    )


def providers() -> list[ProviderRow]:
    return [
        ProviderRow(
            provider_id="kreis-08111",
            name="Landeshauptstadt Stuttgart – Integrationsmanagement",
            kind="municipality",
            ags=[STUTTGART],
        ),
        ProviderRow(
            provider_id="caritas-stuttgart",
            name="Caritasverband für Stuttgart e. V. – Integrationsmanagement",
            kind="welfare",
            ags=[STUTTGART],
        ),
        ProviderRow(
            provider_id="kreis-08426",
            name="Landratsamt Biberach – Integrationsmanagement",
            kind="landratsamt",
            ags=biberach_municipalities(),
        ),
    ]


TEAMS = [
    TeamRow(team_id="s-nord", provider_id="kreis-08111", name="Team Stuttgart-Nord"),
    TeamRow(team_id="s-sued", provider_id="kreis-08111", name="Team Stuttgart-Süd"),
    TeamRow(
        team_id="caritas-im", provider_id="caritas-stuttgart", name="Team Caritas Integrationsmanagement"
    ),
    TeamRow(team_id="bc-nord", provider_id="kreis-08426", name="Team Biberach Nord"),
    TeamRow(team_id="bc-sued", provider_id="kreis-08426", name="Team Biberach Süd (Laupheim)"),
]

_PEOPLE = [
    # subject, name, role, provider, team
    ("s-mueller", "Lena Müller", "counsellor", "kreis-08111", "s-nord"),
    ("s-yilmaz", "Deniz Yılmaz", "counsellor", "kreis-08111", "s-sued"),
    ("s-weber", "Andrea Weber", "supervisor", "kreis-08111", None),
    ("c-nowak", "Marta Nowak", "counsellor", "caritas-stuttgart", "caritas-im"),
    ("c-schmid", "Jonas Schmid", "supervisor", "caritas-stuttgart", None),
    ("bc-hager", "Tobias Hager", "counsellor", "kreis-08426", "bc-nord"),
    ("bc-kaya", "Elif Kaya", "counsellor", "kreis-08426", "bc-sued"),
    ("bc-maier", "Sabine Maier", "supervisor", "kreis-08426", None),
    ("admin", "Plattform-Administration", "admin", None, None),
]
STAFF = [StaffRow(subject=s, display_name=n, role=r, provider_id=p, team_id=t) for s, n, r, p, t in _PEOPLE]


async def seed_development_data(org: OrgRepository) -> bool:
    """Fill an empty organisation directory; returns False (and changes nothing) if one exists."""
    if not await org.is_empty():
        return False
    for provider in providers():
        await org.put_provider(provider)
        for ags in provider.ags:
            # Explicit rules, equal to the defaults, so the admin API shows what an edit would change.
            if provider.kind != "welfare":
                await org.put_rule(ags, provider.provider_id)
    for team in TEAMS:
        await org.put_team(TeamRow(**team.model_dump()))
    for member in STAFF:
        await org.put_member(StaffRow(**member.model_dump()))
    return True


async def seed_at_start(unit_of_work: Callable[[], CaseworkUnitOfWork]) -> bool:
    """Seed in a transaction of its own; returns whether this process did.

    Replicas that start together both find the directory empty: the one that loses the race meets the
    other's rows as a conflict and looks again, finding them there (before, it failed to start).
    """

    async def attempt() -> bool:
        async with unit_of_work() as uow:
            if not await seed_development_data(uow.org):
                return False
            await uow.commit()
            return True

    return await again_after_conflict(attempt)
