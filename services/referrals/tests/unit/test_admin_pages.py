"""The admin desk's texts and partner lines: every key in both languages (also the shared dead-letter
desk's), the area by name, a webhook partner's health and breaker, a Kafka partner's topic."""

import re
from pathlib import Path
from typing import get_args

from wegweiser.common import web as common_web
from wegweiser.referrals.db import DeliveryHealth
from wegweiser.referrals.delivery.breaker import BreakerState
from wegweiser.referrals.testing import partner
from wegweiser.referrals.web.admin import partner_line
from wegweiser.referrals.web.messages import CATALOGUE

WEB = Path(__file__).resolve().parents[2] / "src" / "wegweiser" / "referrals" / "web"


def test_every_key_of_the_desk_has_a_german_and_an_english_text() -> None:
    pages = [
        WEB / "admin.py",
        WEB / "templates" / "admin.html",
        common_web.TEMPLATES / "kern" / "dead_letters.html",
    ]
    keys = set(re.findall(r"\bt\(\s*['\"]([a-z_.0-9]+)['\"]", "".join(p.read_text() for p in pages)))
    keys |= {f"admin.breaker.{state}" for state in get_args(BreakerState)}
    keys |= {f"admin.delivery.{mode}" for mode in ("webhook", "kafka")} | {"dlq.kind.dead", "dlq.kind.parked"}
    keys |= {"role.admin", "nav.partners", "nav.dlq", "admin.app_name", "back_to_desk", "error.forbidden"}
    assert {"admin.title", "dlq.title", "dlq.retry", "dlq.unavailable"} <= keys
    assert sorted(k for k in keys if not k.endswith(".") and k not in CATALOGUE.messages) == []


def test_a_webhook_partner_shows_its_queue_and_breaker_and_a_kafka_partner_its_topic() -> None:
    names = {"psychosozial": "Psychosoziale Unterstützung"}
    webhook = partner(
        "psz", "psychosozial", delivery="webhook", webhook_url="https://psz.example/hooks", kreise=["08111"]
    )
    health = DeliveryHealth(counts={"pending": 2}, last_error="HTTP 503")
    line = partner_line(webhook, names, health, "open", "de")
    assert (line.programmes, line.areas) == (
        ["Psychosoziale Unterstützung"],
        ["Stuttgart, Stadtkreis (ganzer Kreis)"],
    )
    assert (line.address, line.health, line.breaker) == ("https://psz.example/hooks", health, "open")
    quiet = partner_line(webhook, names, None, "closed", "en")
    assert quiet.health == DeliveryHealth() and quiet.areas == ["Stuttgart, Stadtkreis (whole district)"]

    kafka = partner("vhs", "integrationskurs", ags=["08111000"], laender=["08"])
    line = partner_line(kafka, {}, None, "closed", "de")
    assert line.address == "wegweiser.partner.vhs.referrals.v1"
    assert (line.health, line.breaker) == (None, None)  # the partner reads its topic: no queue, no breaker
    assert line.programmes == ["integrationskurs"] and line.areas == [
        "Stuttgart, Landeshauptstadt",
        "ganzes Land 08",
    ]
