"""The region catalogue: the only module that knows what a municipality key looks like.

Today the key is the 8-digit German AGS (Land 2 + Regierungsbezirk 1 + Kreis 2 + Gemeinde 3); an EU
deployment would swap this module for country + LAU codes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True, slots=True)
class Municipality:
    ags: str
    name: str
    kreis_ags: str
    kreis_name: str
    regierungsbezirk_code: str
    regierungsbezirk_name: str
    land_code: str
    population: int


@dataclass(frozen=True, slots=True)
class Catalogue:
    municipalities: dict[str, Municipality]

    def get(self, ags: str) -> Municipality | None:
        return self.municipalities.get(ags)

    def is_allocation_target(self, ags: str) -> bool:
        """Only populated municipalities can receive people (gemeindefreie Gebiete cannot)."""
        m = self.municipalities.get(ags)
        return m is not None and m.population > 0

    def kreis_of(self, ags: str) -> str:
        m = self.municipalities.get(ags)
        return m.kreis_ags if m else "unknown"

    def in_land(self, land_code: str) -> list[Municipality]:
        return [m for m in self.municipalities.values() if m.land_code == land_code]


@cache
def catalogue() -> Catalogue:
    """Load the shipped Destatis GV100AD extract once per process (© Destatis 2023, dl-de/by-2-0)."""
    text = files("wegweiser.common.data").joinpath("gemeinden.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return Catalogue(
        {
            r["ags"]: Municipality(
                ags=r["ags"],
                name=r["name"],
                kreis_ags=r["kreis_ags"],
                kreis_name=r["kreis_name"],
                regierungsbezirk_code=r["regierungsbezirk_code"],
                regierungsbezirk_name=r["regierungsbezirk_name"],
                land_code=r["land_code"],
                population=int(r["population"] or 0),
            )
            for r in rows
        }
    )


def kreis_of(ags: str) -> str:
    """Kreis key of a municipality key; used for metric labels (1,101 AGS would be too many series)."""
    return catalogue().kreis_of(ags)
