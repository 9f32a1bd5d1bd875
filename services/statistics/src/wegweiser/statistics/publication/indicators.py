"""The indicator catalogue: what is published, under which names, and how it is defined.

Indicators are views on *families*: a family is one additive table (count series over regions and
periods, linked by totals) that disclosure control treats as a whole, so that a value suppressed in one
indicator cannot be recomputed from another that shares its totals (consultations by type, by channel
and with interpreter share the number of consultations). Derived values (medians, shares, ratios) are
computed after suppression from the family's cells and are shown only where their base is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal, get_args

from wegweiser.common.events.base import Channel, ClosureReason, ConsultationType, Handlungsfeld, Programme
from wegweiser.common.events.statistics import RegionLevel

Unit = Literal["count", "days", "share", "ratio"]
TimeKind = Literal["flow", "stock"]

BREAKDOWN_LEVEL: RegionLevel = "kreis"
"""Breakdowns (type, channel, Handlungsfeld, programme, outcome, reason) start at the Kreis: in most of
BW's municipalities they would be suppressed almost entirely and drag the totals with them."""
CROSS_LEVEL: RegionLevel = "regierungsbezirk"
"""Programme × outcome: Regierungsbezirk and Land only."""

TYPES: tuple[str, ...] = get_args(ConsultationType)
CHANNELS: tuple[str, ...] = get_args(Channel)
FIELDS: tuple[str, ...] = get_args(Handlungsfeld)
PROGRAMMES: tuple[str, ...] = get_args(Programme)
REASONS: tuple[str, ...] = get_args(ClosureReason)
OUTCOMES: tuple[str, ...] = (
    "sent",
    "accepted",
    "declined",
    "started",
    "completed",
    "dropped",
    "expired",
    "unroutable",
)
COURSES: tuple[str, ...] = ("integrationskurs", "berufssprachkurs")

LABELS: dict[str, tuple[str, str]] = {
    # consultation types
    "erstgespraech": ("Erstgespräch", "First consultation"),
    "folgeberatung": ("Folgeberatung", "Follow-up consultation"),
    "kurzberatung": ("Kurzberatung", "Short consultation"),
    "verweisberatung": ("Verweisberatung", "Referral consultation"),
    # channels
    "persoenlich": ("Persönlich", "In person"),
    "hausbesuch": ("Hausbesuch", "Home visit"),
    "telefon": ("Telefon", "Telephone"),
    "video": ("Video", "Video"),
    "schriftlich": ("Schriftlich", "In writing"),
    # Handlungsfelder
    "sprache": ("Sprache", "Language"),
    "arbeit_ausbildung": ("Arbeit und Ausbildung", "Work and vocational training"),
    "bildung_schule_kita": ("Bildung, Schule, Kita", "Education, school, day care"),
    "wohnen": ("Wohnen", "Housing"),
    "gesundheit_psychosozial": ("Gesundheit, Psychosoziales", "Health, psychosocial"),
    "aufenthalt_recht": ("Aufenthalt und Recht", "Residence and legal matters"),
    "finanzen_leistungen": ("Finanzen und Leistungen", "Money and benefits"),
    "familie": ("Familie", "Family"),
    "gesellschaftliche_teilhabe": ("Gesellschaftliche Teilhabe", "Participation in society"),
    "rueckkehr": ("Rückkehr", "Return"),
    # programmes
    "integrationskurs": ("Integrationskurs", "Integration course"),
    "berufssprachkurs": ("Berufssprachkurs", "Job-related language course"),
    "mbe": ("Migrationsberatung (MBE)", "Migration counselling for adults (MBE)"),
    "jmd": ("Jugendmigrationsdienst", "Youth migration service"),
    "agentur_fuer_arbeit": ("Agentur für Arbeit", "Employment agency"),
    "jobcenter": ("Jobcenter", "Jobcentre"),
    "anerkennungsberatung": ("Anerkennungsberatung", "Recognition counselling"),
    "kita_schule": ("Kita und Schule", "Day care and school"),
    "psychosozial": ("Psychosoziale Unterstützung", "Psychosocial support"),
    "sonstige": ("Sonstige Regeldienste", "Other regular services"),
    # referral outcomes (latest status)
    "sent": ("Übermittelt, offen", "Sent, open"),
    "accepted": ("Angenommen", "Accepted"),
    "declined": ("Abgelehnt", "Declined"),
    "started": ("Begonnen", "Started"),
    "completed": ("Abgeschlossen", "Completed"),
    "dropped": ("Abgebrochen", "Dropped out"),
    "expired": ("Ohne Antwort abgelaufen", "Expired without answer"),
    "unroutable": ("Nicht vermittelbar", "Unroutable"),
}
REASON_LABELS: dict[str, tuple[str, str]] = {
    "time_limit": ("Höchstdauer erreicht", "Time limit reached"),
    "goals_met": ("Ziele erreicht", "Goals met"),
    "relocated": ("Umzug, Fall übergeben", "Moved, case handed over"),
    "moved_away": ("Weggezogen oder ausgereist", "Moved away or left Germany"),
    "declined": ("Beratung nicht mehr gewünscht", "Counselling declined"),
    "no_contact": ("Kein Kontakt", "No contact"),
    "other": ("Sonstiges", "Other"),
}
"""Closure reasons apart: ``declined`` means something else for a referral."""


def label(code: str, labels: dict[str, tuple[str, str]] = LABELS) -> tuple[str, str]:
    return labels.get(code, (code, code))


# --- families -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """One additive table: its count series, the totals that link them, where each series exists."""

    id: str
    time: TimeKind
    series: tuple[str, ...]
    equations: tuple[tuple[str, tuple[str, ...]], ...] = ()
    min_level: tuple[tuple[str, RegionLevel], ...] = ()

    @cached_property
    def _lowest(self) -> dict[str, RegionLevel]:
        return dict(self.min_level)

    def lowest_level(self, series: str) -> RegionLevel:
        return self._lowest.get(series, "gemeinde")


def _keys(prefix: str, codes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{prefix}:{c}" for c in codes)


def _breakdown(*keys: str, level: RegionLevel = BREAKDOWN_LEVEL) -> tuple[tuple[str, RegionLevel], ...]:
    return tuple((k, level) for k in keys)


def _total_of(
    family: str, parts: tuple[str, ...], *, time: TimeKind = "flow", total: str = "total"
) -> Family:
    """A total and the parts that add up to it; the parts exist from ``BREAKDOWN_LEVEL`` up."""
    return Family(family, time, (total, *parts), equations=((total, parts),), min_level=_breakdown(*parts))


_CONS_TYPES = _keys("type", TYPES)
_CONS_CHANNELS = _keys("channel", CHANNELS)
_CONS_INTERPRETER = ("interpreter:yes", "interpreter:no")
_CONS_FIELDS = _keys("field", FIELDS)
_REF_PROGRAMMES = _keys("programme", PROGRAMMES)
_REF_OUTCOMES = _keys("outcome", OUTCOMES)
_REF_CROSS = tuple(f"programme:{p}|outcome:{o}" for p in PROGRAMMES for o in OUTCOMES)
_GOAL_FIELDS = _keys("field", FIELDS)
_REASONS = _keys("reason", REASONS)

FAMILIES: dict[str, Family] = {
    f.id: f
    for f in (
        Family("arrivals", "flow", ("total",)),
        _total_of("cases", ("plan:yes", "plan:no"), time="stock", total="active"),
        Family("persons", "flow", ("total",)),
        Family(
            "consultations",
            "flow",
            ("total", *_CONS_TYPES, *_CONS_CHANNELS, *_CONS_INTERPRETER, *_CONS_FIELDS),
            # Handlungsfelder are not a partition (one consultation touches several): no equation.
            equations=(
                ("total", _CONS_TYPES),
                ("total", _CONS_CHANNELS),
                ("total", _CONS_INTERPRETER),
            ),
            min_level=_breakdown(*_CONS_TYPES, *_CONS_CHANNELS, *_CONS_INTERPRETER, *_CONS_FIELDS),
        ),
        Family("first_consultations", "flow", ("total",)),
        _total_of("goals_set", _GOAL_FIELDS),
        _total_of("goals_achieved", _GOAL_FIELDS),
        Family(
            "referrals",
            "flow",
            ("total", *_REF_PROGRAMMES, *_REF_OUTCOMES, *_REF_CROSS),
            equations=(
                ("total", _REF_PROGRAMMES),
                ("total", _REF_OUTCOMES),
                *(
                    (f"programme:{p}", tuple(f"programme:{p}|outcome:{o}" for o in OUTCOMES))
                    for p in PROGRAMMES
                ),
                *(
                    (f"outcome:{o}", tuple(f"programme:{p}|outcome:{o}" for p in PROGRAMMES))
                    for o in OUTCOMES
                ),
            ),
            min_level=(
                *_breakdown(*_REF_PROGRAMMES, *_REF_OUTCOMES),
                *_breakdown(*_REF_CROSS, level=CROSS_LEVEL),
            ),
        ),
        _total_of("course_start", _REF_PROGRAMMES),
        _total_of("closures", _REASONS),
    )
}


# --- indicators ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    id: str  # column name in JSON, CSV and XLSX
    key: str  # the family cell (count series) or derived value it shows
    label_de: str
    label_en: str
    unit: Unit = "count"


@dataclass(frozen=True)
class Indicator:
    id: str
    family: str
    name_de: str
    name_en: str
    definition_de: str
    definition_en: str
    unit: Unit
    series: tuple[Series, ...]
    min_level: RegionLevel = "gemeinde"

    def series_at(self, level: RegionLevel) -> tuple[Series, ...]:
        """The series that exist for regions of ``level`` (breakdowns start at the Kreis)."""
        return self._series_by_level[level]

    @cached_property
    def _series_by_level(self) -> dict[RegionLevel, tuple[Series, ...]]:
        from wegweiser.statistics.geography import DEPTH, REGION_LEVELS

        family = FAMILIES[self.family]
        return {
            level: tuple(
                s for s in self.series if DEPTH[family.lowest_level(derived_base(s.key))] >= DEPTH[level]
            )
            for level in REGION_LEVELS
        }


def derived_base(key: str) -> str:
    """The count series a value rests on: itself for counts, the base for derived values."""
    if key.startswith(("median|", "p90|")):
        return key.split("|", 1)[1]
    return {
        "share:interpreter": "interpreter:yes",
        "share:plan": "plan:yes",
        "ratio:counsellor": "active",
        "median": "total",
        "p90": "total",
    }.get(key, key)


def _counts(
    codes: tuple[str, ...], prefix: str, labels: dict[str, tuple[str, str]] = LABELS
) -> tuple[Series, ...]:
    return tuple(Series(c, f"{prefix}:{c}", *label(c, labels)) for c in codes)


TOTAL_CONSULTATIONS = Series("total", "total", "Beratungsgespräche insgesamt", "Consultations, total")

INDICATORS: dict[str, Indicator] = {
    i.id: i
    for i in (
        Indicator(
            "arrivals",
            "arrivals",
            "Zugewiesene Personen",
            "Persons allocated",
            "Personen, die die untere Aufnahmebehörde im Zeitraum (Zuweisungsdatum) einer Gemeinde "
            "zugewiesen "
            "hat; nach Umverteilung zählt die neue Gemeinde, zurückgenommene Zuweisungen zählen nicht.",
            "Persons the reception authority allocated to a municipality in the period (allocation date); "
            "after "
            "a relocation the new municipality counts, withdrawn allocations do not.",
            "count",
            (Series("total", "total", "Personen", "Persons"),),
        ),
        Indicator(
            "active_cases",
            "cases",
            "Aktive Fälle",
            "Active cases",
            "Fälle (Haushalte), die am Ende des Zeitraums (laufender Zeitraum: heute) eröffnet und nicht "
            "abgeschlossen sind, in der dann zuständigen Gemeinde (Bestand).",
            "Cases (households) open at the end of the period (current period: today), in the municipality "
            "responsible at that date (stock).",
            "count",
            (Series("active", "active", "Aktive Fälle", "Active cases"),),
        ),
        Indicator(
            "persons_reached",
            "persons",
            "Erreichte Personen",
            "Persons reached",
            "Verschiedene Personen (Pseudonyme), die im Zeitraum an mindestens einem Beratungsgespräch "
            "teilgenommen haben, je Gemeinde; höhere Ebenen sind die Summe ihrer Gemeinden.",
            "Distinct persons (pseudonyms) present at one consultation or more in the period, per "
            "municipality; higher levels add up their municipalities.",
            "count",
            (Series("total", "total", "Personen", "Persons"),),
        ),
        Indicator(
            "consultations_by_type",
            "consultations",
            "Beratungsgespräche nach Art",
            "Consultations by type",
            "Im Zeitraum geführte Beratungsgespräche (Datum des Gesprächs), nach Art des Gesprächs.",
            "Consultations held in the period (date held), by type.",
            "count",
            (TOTAL_CONSULTATIONS, *_counts(TYPES, "type")),
        ),
        Indicator(
            "consultations_by_channel",
            "consultations",
            "Beratungsgespräche nach Kanal",
            "Consultations by channel",
            "Im Zeitraum geführte Beratungsgespräche nach Form (persönlich, Hausbesuch, Telefon, Video, "
            "schriftlich).",
            "Consultations held in the period by channel (in person, home visit, telephone, video, writing).",
            "count",
            (TOTAL_CONSULTATIONS, *_counts(CHANNELS, "channel")),
        ),
        Indicator(
            "consultations_by_field",
            "consultations",
            "Beratungsgespräche nach Handlungsfeld",
            "Consultations by field of action",
            "Im Zeitraum geführte Beratungsgespräche, die das Handlungsfeld berührt haben; ein Gespräch kann "
            "mehrere Handlungsfelder berühren, die Felder addieren sich daher nicht zur Summe.",
            "Consultations held in the period that touched the field of action; one consultation can touch "
            "several fields, so the fields do not add up to the total.",
            "count",
            (TOTAL_CONSULTATIONS, *_counts(FIELDS, "field")),
        ),
        Indicator(
            "interpreter_use",
            "consultations",
            "Sprachmittlung in Beratungsgesprächen",
            "Interpreter use in consultations",
            "Beratungsgespräche im Zeitraum mit und ohne Sprachmittlung, und der Anteil mit Sprachmittlung.",
            "Consultations in the period with and without an interpreter, and the share with one.",
            "count",
            (
                TOTAL_CONSULTATIONS,
                Series("with_interpreter", "interpreter:yes", "Mit Sprachmittlung", "With interpreter"),
                Series("without_interpreter", "interpreter:no", "Ohne Sprachmittlung", "Without interpreter"),
                Series(
                    "share",
                    "share:interpreter",
                    "Anteil mit Sprachmittlung",
                    "Share with interpreter",
                    "share",
                ),
            ),
        ),
        Indicator(
            "days_to_first_consultation",
            "first_consultations",
            "Tage von der Zuweisung bis zum ersten Beratungsgespräch",
            "Days from allocation to first consultation",
            "Für Fälle, deren erstes Beratungsgespräch im Zeitraum stattfand: Tage seit dem Zuweisungsdatum, "
            "Median und 90. Perzentil (Rangmethode). Fälle ohne Zuweisung (Selbstmelder) zählen nicht.",
            "For cases whose first consultation fell in the period: days since the allocation date, median "
            "and 90th percentile (nearest rank). Cases without an allocation (walk-ins) are not included.",
            "days",
            (
                Series("cases", "total", "Fälle mit erstem Gespräch", "Cases with first consultation"),
                Series("median", "median", "Median (Tage)", "Median (days)", "days"),
                Series("p90", "p90", "90. Perzentil (Tage)", "90th percentile (days)", "days"),
            ),
        ),
        Indicator(
            "integration_plan_share",
            "cases",
            "Anteil der Fälle mit Integrationsplan",
            "Share of cases with an integration plan",
            "Aktive Fälle am Ende des Zeitraums, für die bis dahin mindestens ein Ziel (Integrationsplan) "
            "vereinbart wurde, und ihr Anteil an allen aktiven Fällen.",
            "Active cases at the end of the period for which at least one goal (integration plan) had been "
            "agreed by then, and their share of all active cases.",
            "share",
            (
                Series("active", "active", "Aktive Fälle", "Active cases"),
                Series("with_plan", "plan:yes", "Mit Integrationsplan", "With integration plan"),
                Series("without_plan", "plan:no", "Ohne Integrationsplan", "Without integration plan"),
                Series("share", "share:plan", "Anteil mit Integrationsplan", "Share with plan", "share"),
            ),
        ),
        Indicator(
            "goals_set",
            "goals_set",
            "Vereinbarte Ziele nach Handlungsfeld",
            "Goals set by field of action",
            "Im Zeitraum in Integrationsplänen vereinbarte Ziele (Datum der Vereinbarung), nach "
            "Handlungsfeld.",
            "Goals agreed in integration plans in the period (date agreed), by field of action.",
            "count",
            (Series("total", "total", "Ziele insgesamt", "Goals, total"), *_counts(FIELDS, "field")),
        ),
        Indicator(
            "goals_achieved",
            "goals_achieved",
            "Erreichte Ziele nach Handlungsfeld",
            "Goals achieved by field of action",
            "Ziele, deren aktueller Status »erreicht« ist, nach dem Monat, in dem sie erreicht wurden.",
            "Goals whose current status is 'achieved', by the month they were achieved.",
            "count",
            (Series("total", "total", "Erreichte Ziele", "Goals achieved"), *_counts(FIELDS, "field")),
        ),
        Indicator(
            "referrals_by_programme",
            "referrals",
            "Vermittlungen nach Programm",
            "Referrals by programme",
            "Im Zeitraum angefragte Vermittlungen an Regeldienste (Anfragedatum), nach Programm.",
            "Referrals to regular services requested in the period (request date), by programme.",
            "count",
            (Series("total", "total", "Vermittlungen", "Referrals"), *_counts(PROGRAMMES, "programme")),
        ),
        Indicator(
            "referrals_by_outcome",
            "referrals",
            "Vermittlungen nach Ergebnis",
            "Referrals by outcome",
            "Im Zeitraum angefragte Vermittlungen nach ihrem aktuellen Stand (übermittelt, angenommen, "
            "abgelehnt, begonnen, abgeschlossen, abgebrochen, abgelaufen, nicht vermittelbar).",
            "Referrals requested in the period by their current status (sent, accepted, declined, started, "
            "completed, dropped, expired, unroutable).",
            "count",
            (Series("total", "total", "Vermittlungen", "Referrals"), *_counts(OUTCOMES, "outcome")),
        ),
        Indicator(
            "referral_outcomes_by_programme",
            "referrals",
            "Vermittlungen nach Programm und Ergebnis",
            "Referrals by programme and outcome",
            "Wie »Vermittlungen nach Ergebnis«, je Programm; nur für Regierungsbezirke und das Land.",
            "As 'referrals by outcome', per programme; Regierungsbezirke and the Land only.",
            "count",
            tuple(
                Series(
                    f"{p}.{o}",
                    f"programme:{p}|outcome:{o}",
                    f"{label(p)[0]}: {label(o)[0]}",
                    f"{label(p)[1]}: {label(o)[1]}",
                )
                for p in PROGRAMMES
                for o in OUTCOMES
            ),
            min_level=CROSS_LEVEL,
        ),
        Indicator(
            "days_to_course_start",
            "course_start",
            "Tage von der Vermittlung bis zum Beginn",
            "Days from referral to start",
            "Für Vermittlungen, deren Kurs oder Maßnahme im Zeitraum begann: Tage vom Anfragedatum bis zum "
            "Beginn, Median und 90. Perzentil (Rangmethode), insgesamt und für Integrations- und "
            "Berufssprachkurse.",
            "For referrals whose course or measure started in the period: days from the request to the "
            "start, "
            "median and 90th percentile (nearest rank), overall and for integration and job-related "
            "language courses.",
            "days",
            (
                Series("started", "total", "Begonnen", "Started"),
                Series("median", "median|total", "Median (Tage)", "Median (days)", "days"),
                Series("p90", "p90|total", "90. Perzentil (Tage)", "90th percentile (days)", "days"),
                *(
                    s
                    for c in COURSES
                    for s in (
                        Series(
                            f"{c}_started",
                            f"programme:{c}",
                            f"{label(c)[0]}: begonnen",
                            f"{label(c)[1]}: started",
                        ),
                        Series(
                            f"{c}_median",
                            f"median|programme:{c}",
                            f"{label(c)[0]}: Median (Tage)",
                            f"{label(c)[1]}: median (days)",
                            "days",
                        ),
                        Series(
                            f"{c}_p90",
                            f"p90|programme:{c}",
                            f"{label(c)[0]}: 90. Perzentil (Tage)",
                            f"{label(c)[1]}: 90th percentile (days)",
                            "days",
                        ),
                    )
                ),
            ),
        ),
        Indicator(
            "cases_per_counsellor",
            "cases",
            "Fälle je Beratungskraft",
            "Cases per counsellor",
            "Aktive Fälle mit zugewiesener Beratungskraft am Ende des Zeitraums, geteilt durch die Zahl der "
            "Beratungskräfte mit mindestens einem solchen Fall (laut letzter Zuweisung). Nur, wo mindestens "
            "so viele Beratungskräfte wie die Geheimhaltungsschwelle zählen.",
            "Active cases with an assigned counsellor at the end of the period, divided by the number of "
            "counsellors with at least one such case (latest assignment). Only where at least as many "
            "counsellors as the disclosure threshold count.",
            "ratio",
            (
                Series(
                    "ratio", "ratio:counsellor", "Fälle je Beratungskraft", "Cases per counsellor", "ratio"
                ),
            ),
        ),
        Indicator(
            "case_closures",
            "closures",
            "Fallabschlüsse nach Grund",
            "Case closures by reason",
            "Im Zeitraum abgeschlossene Fälle (Abschlussdatum) nach Grund des Abschlusses.",
            "Cases closed in the period (closing date) by reason.",
            "count",
            (Series("total", "total", "Abschlüsse", "Closures"), *_counts(REASONS, "reason", REASON_LABELS)),
        ),
    )
}
