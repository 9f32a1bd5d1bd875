"""The region hierarchy statistics roll up: Gemeinde → Kreis → Regierungsbezirk → Land.

Built from the shared region catalogue, which alone knows what a municipality key looks like; region
codes here are whatever the catalogue names (AGS, Kreis key, Regierungsbezirk code, Land code).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from wegweiser.common.events.statistics import RegionLevel
from wegweiser.common.regions import catalogue

REGION_LEVELS: tuple[RegionLevel, ...] = ("land", "regierungsbezirk", "kreis", "gemeinde")
DEPTH: dict[RegionLevel, int] = {level: depth for depth, level in enumerate(REGION_LEVELS)}

LAENDER = {
    "01": "Schleswig-Holstein",
    "02": "Hamburg",
    "03": "Niedersachsen",
    "04": "Bremen",
    "05": "Nordrhein-Westfalen",
    "06": "Hessen",
    "07": "Rheinland-Pfalz",
    "08": "Baden-Württemberg",
    "09": "Bayern",
    "10": "Saarland",
    "11": "Berlin",
    "12": "Brandenburg",
    "13": "Mecklenburg-Vorpommern",
    "14": "Sachsen",
    "15": "Sachsen-Anhalt",
    "16": "Thüringen",
}

LEVEL_NAMES: dict[RegionLevel, tuple[str, str]] = {
    "land": ("Land", "Land (state)"),
    "regierungsbezirk": ("Regierungsbezirk", "Government region"),
    "kreis": ("Kreis", "District"),
    "gemeinde": ("Gemeinde", "Municipality"),
}


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    level: RegionLevel
    parent: str | None


@dataclass
class RegionTree:
    """All regions of one Land; children in catalogue order, so every walk is deterministic."""

    land: str
    regions: dict[str, Region] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)

    def add(self, region: Region) -> None:
        if region.code in self.regions:
            return
        self.regions[region.code] = region
        self.children.setdefault(region.code, [])
        if region.parent is not None:
            self.children.setdefault(region.parent, []).append(region.code)

    def get(self, code: str) -> Region | None:
        return self.regions.get(code)

    def parent(self, code: str) -> str | None:
        region = self.regions.get(code)
        return region.parent if region else None

    def level(self, code: str) -> RegionLevel:
        return self.regions[code].level

    def ancestors(self, code: str) -> list[str]:
        """From the region itself up to the Land."""
        out = []
        current: str | None = code
        while current is not None:
            out.append(current)
            current = self.parent(current)
        return out

    def at_level(self, level: RegionLevel) -> list[str]:
        return [c for c, r in self.regions.items() if r.level == level]

    def descendants(self, code: str, level: RegionLevel) -> list[str]:
        """Regions of ``level`` inside ``code`` (the region itself when it is of that level)."""
        if self.regions[code].level == level:
            return [code]
        out: list[str] = []
        for child in self.children.get(code, []):
            out += self.descendants(child, level)
        return out

    def gemeinde(self, ags: str) -> str | None:
        """The municipality key if it is one of this Land's municipalities."""
        region = self.regions.get(ags)
        return ags if region is not None and region.level == "gemeinde" else None

    def codes(self) -> Iterable[str]:
        return self.regions.keys()


@cache
def region_tree(land: str = "08") -> RegionTree:
    """The Land's populated municipalities (allocation targets) and the regions above them."""
    tree = RegionTree(land=land)
    tree.add(Region(land, LAENDER.get(land, land), "land", None))
    municipalities = sorted(
        (m for m in catalogue().in_land(land) if m.population > 0),
        key=lambda m: (m.regierungsbezirk_code, m.kreis_ags, m.ags),
    )
    for m in municipalities:
        kreis_parent = land
        if m.regierungsbezirk_code:
            tree.add(Region(m.regierungsbezirk_code, m.regierungsbezirk_name, "regierungsbezirk", land))
            kreis_parent = m.regierungsbezirk_code
        tree.add(Region(m.kreis_ags, m.kreis_name, "kreis", kreis_parent))
        tree.add(Region(m.ags, m.name, "gemeinde", m.kreis_ags))
    return tree
