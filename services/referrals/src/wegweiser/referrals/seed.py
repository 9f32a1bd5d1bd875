"""The example catalogue for Baden-Württemberg: fictional partners with plausible names and areas.

Every entry is marked as an example; contact addresses use the reserved ``example.org`` domain and
webhook partners point at the example receiver on this machine (``examples/webhook_receiver.py``),
so a development stack never sends personal data anywhere else.
"""

from __future__ import annotations

from importlib.resources import files

from pydantic import TypeAdapter

from wegweiser.referrals.domain.catalogue import Partner, ProgrammeInfo

EXAMPLE = "Beispieldatensatz (fiktiv)."
RECEIVER = "http://127.0.0.1:8090/webhooks"


# partner id, organisation, programmes, delivery, area
EXAMPLES: tuple[tuple[str, str, tuple[str, ...], str, dict[str, tuple[str, ...]]], ...] = (
    # Stuttgart (Stadtkreis 08111)
    ("vhs-stuttgart", "Volkshochschule Stuttgart – Integrationskurse",
     ("integrationskurs", "berufssprachkurs"), "kafka", {"kreise": ("08111",)}),
    ("jobcenter-stuttgart", "Jobcenter Stuttgart", ("jobcenter",), "kafka", {"kreise": ("08111",)}),
    ("aa-stuttgart", "Agentur für Arbeit Stuttgart", ("agentur_fuer_arbeit",), "kafka",
     {"kreise": ("08111", "08115")}),
    ("caritas-mbe-stuttgart", "Caritasverband Stuttgart – Migrationsberatung (MBE)", ("mbe",), "webhook",
     {"kreise": ("08111",)}),
    ("jmd-stuttgart", "Jugendmigrationsdienst Stuttgart (Evangelische Jugend)", ("jmd",), "webhook",
     {"kreise": ("08111", "08116")}),
    ("psz-stuttgart", "Psychosoziales Zentrum für Geflüchtete Stuttgart", ("psychosozial",), "webhook",
     {"kreise": ("08111", "08115", "08116", "08118")}),
    ("schulamt-stuttgart", "Staatliches Schulamt Stuttgart – Vorbereitungsklassen", ("kita_schule",), "kafka",
     {"kreise": ("08111",)}),
    # Böblingen (08115), with a course provider of its own in Leonberg
    ("sprachschule-boeblingen", "Sprachschule Böblingen-Sindelfingen",
     ("integrationskurs", "berufssprachkurs"), "webhook", {"kreise": ("08115",)}),
    ("vhs-leonberg", "Volkshochschule Leonberg", ("integrationskurs",), "kafka", {"ags": ("08115028",)}),
    ("jobcenter-boeblingen", "Jobcenter Landkreis Böblingen", ("jobcenter",), "webhook",
     {"kreise": ("08115",)}),
    ("diakonie-mbe-boeblingen", "Diakonische Bezirksstelle Böblingen – MBE", ("mbe", "sonstige"), "webhook",
     {"kreise": ("08115",)}),
    # Esslingen (08116) and Ludwigsburg (08118)
    ("vhs-esslingen", "Volkshochschule Esslingen", ("integrationskurs",), "kafka", {"kreise": ("08116",)}),
    ("jobcenter-ludwigsburg", "Jobcenter Landkreis Ludwigsburg", ("jobcenter",), "kafka",
     {"kreise": ("08118",)}),
    # Freiburg (08311), Mannheim (08222), Ulm (08421), Biberach (08426)
    ("vhs-freiburg", "Volkshochschule Freiburg", ("integrationskurs", "berufssprachkurs"), "kafka",
     {"kreise": ("08311", "08315")}),
    ("jobcenter-freiburg", "Jobcenter Freiburg", ("jobcenter",), "webhook", {"kreise": ("08311",)}),
    ("drk-mbe-freiburg", "DRK-Kreisverband Freiburg – Migrationsberatung", ("mbe",), "webhook",
     {"kreise": ("08311",)}),
    ("aa-mannheim", "Agentur für Arbeit Mannheim", ("agentur_fuer_arbeit",), "kafka", {"kreise": ("08222",)}),
    ("vhs-ulm", "Volkshochschule Ulm", ("integrationskurs",), "kafka", {"kreise": ("08421", "08425")}),
    ("caritas-biberach", "Caritas Biberach-Saulgau – Migrationsdienst", ("mbe", "jmd"), "webhook",
     {"kreise": ("08426",)}),
    # Land-wide
    ("iq-netzwerk-bw", "IQ Netzwerk Baden-Württemberg – Anerkennungsberatung", ("anerkennungsberatung",),
     "kafka", {"laender": ("08",)}),
)  # fmt: skip


def default_programmes() -> list[ProgrammeInfo]:
    """docs/domain.md's referral targets; the fields are our reading of what each partner needs to act.

    Kept as data (``programmes.json``): ten entries of texts and field lists, validated on loading.
    """
    text = files("wegweiser.referrals").joinpath("programmes.json").read_text(encoding="utf-8")
    return TypeAdapter(list[ProgrammeInfo]).validate_json(text)


def example_partners() -> list[Partner]:
    """Stuttgart and its neighbours, Freiburg, Mannheim, Ulm and Biberach; one Land-wide network."""
    return [
        Partner.model_validate(
            {
                "partner_id": partner_id,
                "organisation": organisation,
                "programmes": programmes,
                "delivery": delivery,
                "webhook_url": f"{RECEIVER}/{partner_id}" if delivery == "webhook" else None,
                "contact_email": f"{partner_id}@example.org",
                "capacity_note": EXAMPLE,
                **area,
            }
        )
        for partner_id, organisation, programmes, delivery, area in EXAMPLES
    ]
