"""Where a requested referral goes: the chosen partner, else the one serving that programme there.

Consent is the legal gate (docs/domain.md, data protection): it must name the programme and, when it is
restricted to a partner, that partner. Every refusal has a code and a German and English text.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from wegweiser.common.events import Programme, UnroutableReason
from wegweiser.common.partner_areas import SERVING_LEVELS, Place, ServingLevel
from wegweiser.referrals.domain.catalogue import Partner, ProgrammeInfo

REASONS: dict[UnroutableReason, tuple[str, str]] = {
    "programme_unavailable": (
        "Das Programm wird derzeit nicht angeboten.",
        "The programme is not offered at the moment.",
    ),
    "consent_programme_mismatch": (
        "Die Einwilligung gilt nicht für dieses Programm.",
        "The consent does not cover this programme.",
    ),
    "consent_partner_mismatch": (
        "Die Einwilligung ist auf einen anderen Partner beschränkt.",
        "The consent is restricted to another partner.",
    ),
    "unknown_partner": (
        "Der gewählte Partner ist unbekannt oder nimmt keine Überweisungen an.",
        "The chosen partner is unknown or does not take referrals.",
    ),
    "partner_lacks_programme": (
        "Der gewählte Partner bietet dieses Programm nicht an.",
        "The chosen partner does not offer this programme.",
    ),
    "no_partner": (
        "Kein Partner bietet dieses Programm in dieser Gemeinde oder ihrem Kreis an.",
        "No partner offers this programme in this municipality or its district.",
    ),
    "incomplete_person_data": (
        "Es fehlen Angaben zur Person, die das Programm benötigt.",
        "Personal details that the programme needs are missing.",
    ),
}


@dataclass(frozen=True, slots=True)
class RoutingRequest:
    referral_id: uuid.UUID
    programme: Programme
    chosen_partner_id: str | None
    consent_programme: Programme
    consent_partner_id: str | None


@dataclass(frozen=True, slots=True)
class Routed:
    partner: Partner
    how: ServingLevel | Literal["chosen", "consent"]


@dataclass(frozen=True, slots=True)
class Refused:
    reason: UnroutableReason
    detail: str | None = None

    @property
    def text_de(self) -> str:
        return REASONS[self.reason][0] + (f" ({self.detail})" if self.detail else "")

    @property
    def text_en(self) -> str:
        return REASONS[self.reason][1] + (f" ({self.detail})" if self.detail else "")


def route(
    request: RoutingRequest, *, programme: ProgrammeInfo | None, partners: Sequence[Partner], place: Place
) -> Routed | Refused:
    """Consent first, then the chosen (or consented) partner, then the most local partner."""
    if programme is None or not programme.active:
        return Refused("programme_unavailable")
    if request.consent_programme != request.programme:
        return Refused("consent_programme_mismatch")
    chosen = request.chosen_partner_id
    if chosen and request.consent_partner_id and chosen != request.consent_partner_id:
        return Refused("consent_partner_mismatch")
    target = chosen or request.consent_partner_id
    if target:
        partner = next((p for p in partners if p.partner_id == target and p.receives), None)
        if partner is None:
            return Refused("unknown_partner")
        if request.programme not in partner.programmes:
            return Refused("partner_lacks_programme")
        return Routed(partner, "chosen" if chosen else "consent")
    offering = [p for p in partners if p.receives and request.programme in p.programmes]
    for level in SERVING_LEVELS:
        candidates = sorted((p for p in offering if p.area.level(place) == level), key=lambda p: p.partner_id)
        if candidates:
            # Several partners at the same level share the load; the choice is stable for a referral.
            return Routed(candidates[request.referral_id.int % len(candidates)], level)
    return Refused("no_partner")
