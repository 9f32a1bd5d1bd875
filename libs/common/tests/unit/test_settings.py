from typing import Any

import pytest
from pydantic import ValidationError

from wegweiser.common.settings import PseudonymKeyMixin, ServiceSettings


class Settings(PseudonymKeyMixin, ServiceSettings):
    pass


OIDC: dict[str, Any] = {
    "auth_jwks_url": "https://login.example/certs",
    "auth_issuer": "https://login.example/realms/w",
}


def test_shared_names_are_read_without_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9092")
    assert Settings().kafka_bootstrap_servers == "broker:9092"
    assert Settings().consumer_group("casework") == "wegweiser-casework"


def test_production_refuses_development_keys_placeholder_secrets_and_plaintext_kafka(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValidationError, match="OpenID Connect"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="PSEUDONYM_KEY"):
        Settings(environment="production", **OIDC)
    real_key = "a-real-secret-of-32-characters!!"
    with pytest.raises(ValidationError, match="KEY_WRAPPING_KEY"):
        Settings(environment="production", pseudonym_key=real_key, **OIDC)
    monkeypatch.setenv("WEGWEISER_KEY_WRAPPING_KEY", "another-real-secret-of-32-chars!")
    with pytest.raises(ValidationError, match="KAFKA_SECURITY_PROTOCOL"):
        Settings(environment="production", pseudonym_key=real_key, **OIDC)
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "casework")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "from-the-kafkauser-secret")
    assert Settings(environment="production", pseudonym_key=real_key, **OIDC)
