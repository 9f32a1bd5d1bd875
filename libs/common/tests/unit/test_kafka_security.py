import ast
import ssl
from pathlib import Path

import pytest
from faststream.security import SASLScram256, SASLScram512
from pydantic import ValidationError

from wegweiser.common.kafka_security import KafkaSecurity


def test_plaintext_by_default_so_a_laptop_broker_needs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    security = KafkaSecurity()
    assert security.client_options() == {"security_protocol": "PLAINTEXT"}
    assert security.faststream_security() is None


def test_scram_login_from_the_environment_reaches_aiokafka_and_faststream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "casework")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    security = KafkaSecurity()
    assert security.client_options() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "casework",
        "sasl_plain_password": "s3cret",
    }
    login = security.faststream_security()
    assert isinstance(login, SASLScram512) and not login.use_ssl
    assert "s3cret" not in repr(security)  # the password never lands in a log line


def test_scram_over_tls_carries_a_tls_context_to_both_clients() -> None:
    security = KafkaSecurity(
        security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-256", sasl_username="u", sasl_password="p"
    )
    options = security.client_options()
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-256"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    login = security.faststream_security()
    assert isinstance(login, SASLScram256) and login.use_ssl


def test_sasl_without_credentials_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match="KAFKA_SASL_USERNAME"):
        KafkaSecurity(security_protocol="SASL_SSL")


def _logs_in(call: ast.Call) -> bool:
    return any(
        k.arg is None
        and isinstance(k.value, ast.Call)
        and getattr(k.value.func, "id", "") == "client_options"
        for k in call.keywords
    )


def test_every_kafka_client_in_the_services_logs_in_through_client_options() -> None:
    """A client built without ``**client_options()`` would connect unauthenticated in production."""
    root = Path(__file__).resolve().parents[4]
    sources = [*root.glob("libs/common/src/**/*.py"), *root.glob("services/*/src/**/*.py")]
    clients = {"AIOKafkaConsumer", "AIOKafkaProducer", "AIOKafkaAdminClient"}
    unauthenticated = [
        f"{path.relative_to(root)}:{node.lineno}"
        for path in sources
        if "testing" not in (*path.parts, path.stem)  # test helpers talk to the local plaintext broker
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in clients and not _logs_in(node)
    ]
    assert len(sources) > 50
    assert not unauthenticated
