"""Which partners serve a municipality: the one rule that casework and referrals both apply.

A partner names the municipalities (AGS), Kreise and Länder it serves. It serves a municipality when
it names that municipality, its Kreis or its Land; a partner that names nothing (an old catalogue
record) serves everywhere. The level at which it serves lets routing prefer the most local partner.
The rule is pure; only ``place_of`` asks the region catalogue where a municipality lies.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from wegweiser.common.regions import catalogue

ServingLevel = Literal["municipality", "kreis", "land", "everywhere"]
SERVING_LEVELS: tuple[ServingLevel, ...] = ("municipality", "kreis", "land", "everywhere")
"""From the most local to the least: routing tries them in this order."""


@dataclass(frozen=True, slots=True)
class Place:
    """A municipality with the regions containing it, as the region catalogue knows them."""

    ags: str
    kreis: str
    land: str


@dataclass(frozen=True, slots=True)
class PartnerArea:
    """The regions a partner names: municipality keys, Kreis keys, Land keys."""

    ags: Collection[str] = ()
    kreise: Collection[str] = ()
    laender: Collection[str] = ()

    def level(self, place: Place) -> ServingLevel | None:
        """The most local level at which this area covers ``place``; None when it does not."""
        if place.ags in self.ags:
            return "municipality"
        if place.kreis in self.kreise:
            return "kreis"
        if place.land in self.laender:
            return "land"
        if not (self.ags or self.kreise or self.laender):
            return "everywhere"
        return None

    def serves(self, place: Place) -> bool:
        return self.level(place) is not None


def place_of(ags: str) -> Place:
    """The municipality's Kreis and Land from the region catalogue ('unknown' when not in it)."""
    m = catalogue().get(ags)
    return Place(ags, m.kreis_ags, m.land_code) if m else Place(ags, "unknown", "unknown")
