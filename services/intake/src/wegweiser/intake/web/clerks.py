"""The development clerks of reception authorities (intake keeps no staff records of its own)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DevClerk:
    subject: str
    display_name: str
    authority_id: str
    org: str
    ags: tuple[str, ...]
    role: str = "reception_authority"


DEV_CLERKS = (
    DevClerk("sb-uab-08111", "Sabine Keller", "uab-08111", "Untere Aufnahmebehörde Stuttgart",
             ("08111000", "08115003")),
    DevClerk("sb-uab-08421", "Murat Yılmaz", "uab-08421", "Untere Aufnahmebehörde Ulm", ("08421000",)),
)  # fmt: skip


def display_name(subject: str) -> str:
    return next((c.display_name for c in DEV_CLERKS if c.subject == subject), subject)
