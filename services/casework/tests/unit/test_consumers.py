"""The one registry of event → handler is wired completely, and the engine is tuned from the settings."""

from typing import Any

import pytest
from pydantic import ValidationError

from wegweiser.casework.consumers import CATALOGUE_ENGINE, consumer_specs, event_handlers
from wegweiser.casework.settings import CONSUMER_ENGINE, CaseworkSettings
from wegweiser.common import events, topics


def test_every_registered_event_is_consumed_by_the_group_of_its_topic() -> None:
    settings = CaseworkSettings(_env_file=None)
    specs = consumer_specs(settings)
    wired = [event_type for spec in specs for event_type in spec.handlers]
    assert sorted(wired, key=str) == sorted(event_handlers(settings), key=str)  # each once, none lost
    for spec in specs:
        assert all(event_type.topic in spec.topics for event_type in spec.handlers)
    assert {events.ArrivalRegistered, events.ReferralCompleted, events.PartnerRemoved} <= set(wired)
    assert [spec.topics for spec in specs] == [
        [topics.ARRIVALS],
        [topics.REFERRAL_STATUS],
        [topics.REFERRAL_CATALOGUE],
        [topics.INTAKE_PERSON_KEYS],
    ]


def test_the_engine_tuning_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CaseworkSettings(_env_file=None).engine == CONSUMER_ENGINE
    monkeypatch.setenv("CASEWORK_ENGINE__MAX_ATTEMPTS", "8")
    settings = CaseworkSettings(_env_file=None)
    assert settings.engine.max_attempts == 8
    assert settings.engine.max_in_flight_per_partition == CONSUMER_ENGINE.max_in_flight_per_partition
    arrivals, status, catalogue, keys = consumer_specs(settings)
    assert arrivals.config == status.config == settings.engine
    assert (
        keys.config.max_attempts == 8
        and keys.config.max_in_flight_per_ags > settings.engine.max_in_flight_per_ags
    )
    assert catalogue.config == CATALOGUE_ENGINE


def test_the_injected_fault_names_its_municipalities_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CaseworkSettings(_env_file=None).fault_fail_ags == frozenset()
    monkeypatch.setenv("CASEWORK_FAULT_FAIL_AGS", " 08425001, 08116033,,08425001 ")
    assert CaseworkSettings(_env_file=None).fault_fail_ags == {"08425001", "08116033"}
    monkeypatch.setenv("CASEWORK_FAULT_FAIL_AGS", "")
    assert CaseworkSettings(_env_file=None).fault_fail_ags == frozenset()
    monkeypatch.setenv("CASEWORK_FAULT_FAIL_AGS", "08425001;08116033")  # a typo fails loudly
    with pytest.raises(ValidationError, match="fault_fail_ags"):
        CaseworkSettings(_env_file=None)


def test_production_refuses_to_start_with_an_injected_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "casework")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "from-the-kafkauser-secret")
    production: dict[str, Any] = {
        "environment": "production",
        "auth_jwks_url": "https://login.example/certs",
        "auth_issuer": "https://login.example/realms/w",
        "pseudonym_key": "a-real-secret-of-32-characters!!",
        "key_wrapping_key": "another-real-secret-of-32-chars!",
    }
    assert CaseworkSettings(_env_file=None, **production).fault_fail_ags == frozenset()
    monkeypatch.setenv("CASEWORK_FAULT_FAIL_AGS", "08425001")
    with pytest.raises(ValidationError, match=r"production refuses CASEWORK_FAULT_FAIL_AGS .* 08425001"):
        CaseworkSettings(_env_file=None, **production)
    assert CaseworkSettings(_env_file=None).fault_fail_ags == {"08425001"}  # development: on
