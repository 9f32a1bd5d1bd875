"""How our Kafka clients log in: plaintext on a laptop, SASL/SCRAM (optionally over TLS) in production.

docs/architecture.md requires SASL/SCRAM and ACLs in production (``deploy/k8s/kafka/users.yaml`` gives
each service its own KafkaUser). Every Kafka client we create — the engine's consumers and producer,
the outbox relay's broker, the topic checks at start-up, the operator CLI, the statistics rebuild —
takes its options from here, so they all connect the same way. The settings are read from the
environment (``KAFKA_SECURITY_PROTOCOL``, ``KAFKA_SASL_MECHANISM``, ``KAFKA_SASL_USERNAME``,
``KAFKA_SASL_PASSWORD``, ``KAFKA_SSL_CAFILE``) the first time a client is built, never at import.
"""

from __future__ import annotations

import functools
from typing import Any, Literal, Self

from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSecurity(BaseSettings):
    """The login of this process at the Kafka cluster (one KafkaUser per service)."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None  # the cluster's CA certificate (PEM); the system's CAs when unset

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> Self:
        if self.uses_sasl and not (self.sasl_username and self.sasl_password):
            raise ValueError(f"{self.security_protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
        return self

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's consumer, producer and admin client."""
        options: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.uses_tls:
            options["ssl_context"] = create_ssl_context(cafile=self.ssl_cafile)
        if self.uses_sasl:
            assert self.sasl_password is not None
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_username,
                "sasl_plain_password": self.sasl_password.get_secret_value(),
            }
        return options

    def faststream_security(self) -> BaseSecurity | None:
        """The same login for faststream's ``KafkaBroker(security=...)``."""
        ssl_context = create_ssl_context(cafile=self.ssl_cafile) if self.uses_tls else None
        if self.uses_sasl:
            assert self.sasl_username is not None and self.sasl_password is not None
            scram = SASLScram512 if self.sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
            return scram(
                self.sasl_username,
                self.sasl_password.get_secret_value(),
                ssl_context=ssl_context,
                use_ssl=self.uses_tls,
            )
        if self.uses_tls:
            return BaseSecurity(ssl_context=ssl_context, use_ssl=True)
        return None


@functools.cache
def kafka_security() -> KafkaSecurity:
    """This process's Kafka login, read from the environment once."""
    return KafkaSecurity()


def client_options() -> dict[str, Any]:
    """aiokafka keyword arguments for this process's login (``**client_options()``)."""
    return kafka_security().client_options()
