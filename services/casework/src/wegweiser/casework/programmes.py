"""What each programme needs to know about a person, until (or unless) the referrals catalogue says.

The catalogue that referrals publishes (``wegweiser.referrals.catalogue.v1``) wins; this built-in list is
the conservative fallback: names and one way to reach the person, plus what the programme cannot work
without (date of birth for age-bound programmes, an address for school enrolment).
"""

from __future__ import annotations

from typing import Protocol

PERSON_FIELDS: frozenset[str] = frozenset(
    {"family_name", "given_names", "date_of_birth", "sex", "languages", "phone", "email", "address"}
)

_NAMES = frozenset({"family_name", "given_names"})
BUILT_IN_MINIMUM: dict[str, frozenset[str]] = {
    "integrationskurs": _NAMES | {"date_of_birth", "languages", "phone"},
    "berufssprachkurs": _NAMES | {"date_of_birth", "languages", "phone"},
    "mbe": _NAMES | {"languages", "phone"},
    "jmd": _NAMES | {"date_of_birth", "languages", "phone"},
    "agentur_fuer_arbeit": _NAMES | {"date_of_birth", "phone"},
    "jobcenter": _NAMES | {"date_of_birth", "phone", "address"},
    "anerkennungsberatung": _NAMES | {"languages", "phone", "email"},
    "kita_schule": _NAMES | {"date_of_birth", "address"},
    "psychosozial": frozenset({"given_names", "languages", "phone"}),
    "sonstige": frozenset({"given_names", "phone"}),
}

PROGRAMME_NAMES: dict[str, tuple[str, str]] = {
    "integrationskurs": ("Integrationskurs", "Integration course"),
    "berufssprachkurs": ("Berufsbezogene Deutschsprachförderung", "Job-related German course"),
    "mbe": ("Migrationsberatung für erwachsene Zugewanderte (MBE)", "Migration counselling for adults (MBE)"),
    "jmd": ("Jugendmigrationsdienst (JMD)", "Youth migration service (JMD)"),
    "agentur_fuer_arbeit": ("Agentur für Arbeit", "Federal Employment Agency"),
    "jobcenter": ("Jobcenter", "Jobcenter"),
    "anerkennungsberatung": ("Anerkennungsberatung (IQ Netzwerk)", "Recognition counselling (IQ network)"),
    "kita_schule": ("Kita-Platz / Schulanmeldung", "Childcare place / school enrolment"),
    "psychosozial": ("Psychosoziale Unterstützung", "Psychosocial support"),
    "sonstige": ("Sonstige Regeldienste", "Other regular services"),
}


class CatalogueEntry(Protocol):
    person_fields: list[str]


def person_fields_for(programme: str, entry: CatalogueEntry | None) -> frozenset[str]:
    """The catalogue's list when it has the programme, else the built-in minimum; unknown names dropped."""
    if entry is not None and entry.person_fields:
        return frozenset(entry.person_fields) & PERSON_FIELDS
    return BUILT_IN_MINIMUM.get(programme, frozenset({"given_names"}))
