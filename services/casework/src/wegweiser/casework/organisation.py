"""The admin's changes to who serves which municipality and to staff, shared by the admin API and desk.

One handler per change, so the API (``api/admin.py``) and the web form (``web/admin.py``) check the
same rules and write the same audit entry; a refusal names its field and a catalogue code.
"""

from __future__ import annotations

from dataclasses import dataclass

from wegweiser.casework.db import ProviderRow, ProviderRuleRow, StaffRow, TeamRow
from wegweiser.casework.handlers import CaseworkUnitOfWork, audit
from wegweiser.common.auth import Principal
from wegweiser.common.regions import catalogue

REFUSALS = {
    "admin.unknown_ags": ("ags", "unknown municipality"),
    "admin.not_serving": ("provider_id", "provider does not serve this municipality"),
    "admin.unknown_provider": ("provider_id", "unknown provider"),
    "admin.foreign_team": ("team_id", "not a team of this provider"),
}
"""Why an admin's change is refused: catalogue code -> (the field at fault, the API's message)."""


class AdminRefused(ValueError):
    """A change the admin may not make; raised with a code of ``REFUSALS``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)

    @property
    def code(self) -> str:
        return str(self.args[0])

    @property
    def field(self) -> str:
        return REFUSALS[self.code][0]

    @property
    def message(self) -> str:
        return REFUSALS[self.code][1]


@dataclass(frozen=True)
class Organisation:
    """Everything the admin desk shows about casework's organisation (no personal data of clients)."""

    providers: list[ProviderRow]
    rules: list[ProviderRuleRow]
    teams: list[TeamRow]
    staff: list[StaffRow]

    def provider_name(self, provider_id: str | None) -> str:
        names = {p.provider_id: p.name for p in self.providers}
        return names.get(provider_id or "", provider_id or "")

    def team_name(self, team_id: str | None) -> str:
        names = {t.team_id: t.name for t in self.teams}
        return names.get(team_id or "", team_id or "")


async def organisation(uow: CaseworkUnitOfWork) -> Organisation:
    async with uow:
        return Organisation(
            providers=await uow.org.providers(),
            rules=await uow.org.rules(),
            teams=await uow.org.teams(),
            staff=await uow.org.staff(),
        )


async def set_provider_rule(
    uow: CaseworkUnitOfWork, principal: Principal, ags: str, provider_id: str
) -> None:
    """Which provider takes new arrivals in ``ags`` (existing cases stay where they are); audited."""
    if not catalogue().is_allocation_target(ags):
        raise AdminRefused("admin.unknown_ags")
    async with uow:
        provider = await uow.org.provider(provider_id)
        if provider is None or ags not in provider.ags:
            raise AdminRefused("admin.not_serving")
        await uow.org.put_rule(ags, provider_id)
        audit(uow, principal, "admin.put_rule", None, ags=ags, provider_id=provider_id)
        await uow.commit()


async def reset_provider_rule(uow: CaseworkUnitOfWork, principal: Principal, ags: str) -> bool:
    """Back to the default, the Kreis's provider ``kreis-<kreis_ags>``; False when no rule was set."""
    async with uow:
        if not await uow.org.delete_rule(ags):
            return False
        audit(uow, principal, "admin.delete_rule", None, ags=ags)
        await uow.commit()
    return True


async def put_member(uow: CaseworkUnitOfWork, principal: Principal, member: StaffRow) -> None:
    """Add or change a staff member (role, provider, team, active); audited.

    Everyone but an admin works for a provider, and a team is one of that provider's.
    """
    async with uow:
        if member.role != "admin" and (
            member.provider_id is None or await uow.org.provider(member.provider_id) is None
        ):
            raise AdminRefused("admin.unknown_provider")
        if member.team_id is not None:
            team = await uow.org.team(member.team_id)
            if team is None or team.provider_id != member.provider_id:
                raise AdminRefused("admin.foreign_team")
        await uow.org.put_member(member)
        audit(uow, principal, "admin.put_staff", None, subject=member.subject)
        await uow.commit()
