"""Disclosure control: official statistics never publish small numbers (DOMAIN.md)."""

from __future__ import annotations

SUPPRESSED = "."


def suppress(count: int, *, threshold: int) -> int | str:
    """Primary suppression of one cell; secondary suppression arrives with tables of several cells."""
    return count if count == 0 or count >= threshold else SUPPRESSED
