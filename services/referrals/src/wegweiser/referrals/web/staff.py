"""The development users of referrals' pages: staff of three partners of the example catalogue, and the
platform's administration (the admin desk).

Referrals keeps no staff records of partners; in production a partner's staff sign in at the
organisation's identity provider (OpenID Connect) with the ``partner`` role and a ``partner_id`` claim,
and the platform's admins with the ``admin`` role.
"""

from __future__ import annotations

from dataclasses import dataclass

from wegweiser.common.web.session import DevUser
from wegweiser.referrals.seed import EXAMPLES

ORGANISATIONS = {partner_id: organisation for partner_id, organisation, *_ in EXAMPLES}


@dataclass(frozen=True, slots=True)
class DevPartnerStaff:
    subject: str
    display_name: str
    partner_id: str
    role: str = "partner"

    @property
    def org(self) -> str:
        return ORGANISATIONS.get(self.partner_id, self.partner_id)


# In the order a newcomer should try them: the course provider gets most referrals.
DEV_PARTNER_STAFF = (
    DevPartnerStaff("pa-vhs-stuttgart", "Petra Schneider", "vhs-stuttgart"),
    DevPartnerStaff("pa-jmd-stuttgart", "Jonas Becker", "jmd-stuttgart"),
    DevPartnerStaff("pa-caritas-mbe-stuttgart", "Aylin Demir", "caritas-mbe-stuttgart"),
)


PLATFORM = "Wegweiser"
"""The organisation the platform's admins act for."""
DEV_ADMIN = DevUser("admin", "Plattform-Administration", "admin", PLATFORM)
"""The admin of the development sign-in, as in casework: sees partners and stuck records, no referral."""


def display_name(subject: str) -> str:
    users = (*DEV_PARTNER_STAFF, DEV_ADMIN)
    return next((s.display_name for s in users if s.subject == subject), subject)
