"""The deployment files agree with the code: docker-compose.yml and deploy/k8s, checked statically.

No Docker engine and no network: the compose file is validated against the compose specification's
JSON schema (vendored by check-jsonschema), and what it and the Kubernetes manifests configure is
compared with what the settings classes read, the topic declarations and the roles and claims the
services expect in a token. The consumer groups and the (topic, group) pairs behind the retry and dead-letter
topics, ACLs and KEDA triggers are taken from the services' apps, built with default settings (no I/O).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import AliasChoices
from pydantic_settings import BaseSettings
from ruamel.yaml import YAML

from wegweiser.casework.app import build as build_casework
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.common import auth, kafka_acls, topics
from wegweiser.common.engine import EngineConfig
from wegweiser.common.engine.retry_topics import dlq_retention_ms, dlq_topic, retry_topic
from wegweiser.common.events.referrals import partner_feedback_topic
from wegweiser.common.kafka_security import KafkaSecurity
from wegweiser.common.runtime import ConsumerSpec
from wegweiser.common.settings import consumer_group_id
from wegweiser.intake.app import build as build_intake
from wegweiser.intake.settings import IntakeSettings
from wegweiser.referrals.app import build as build_referrals
from wegweiser.referrals.consumers import FeedbackConsumer
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.statistics.app import build as build_statistics
from wegweiser.statistics.ops.workers import Workers
from wegweiser.statistics.settings import StatisticsSettings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_DIR = ROOT / "deploy" / "compose"
REALM_FILE = COMPOSE_DIR / "keycloak" / "wegweiser-realm.json"
POSTGRES_INIT = COMPOSE_DIR / "postgres" / "init-databases.sql"
K8S_DIR = ROOT / "deploy" / "k8s"

SETTINGS: dict[str, type[BaseSettings]] = {
    "intake": IntakeSettings,
    "casework": CaseworkSettings,
    "referrals": ReferralsSettings,
    "statistics": StatisticsSettings,
}
BUILDERS: dict[str, Callable[[Any], FastAPI]] = {
    "intake": build_intake,
    "casework": build_casework,
    "referrals": build_referrals,
    "statistics": build_statistics,
}
TOKEN_CLAIMS = ("authority_id", "provider_id", "partner_id", "ags")  # what auth.Principal reads
DAY_MS = topics.DAY_MS
SPECS = {spec.name: spec for spec in topics.ALL}
PARTNER_TOPIC = re.compile(
    r"wegweiser\.partner\.(?:[a-z0-9][a-z0-9-]*|\$\{PARTNER_ID\})\.(referrals|feedback)\.v1"
)
ERROR_TOPIC = re.compile(r"(?P<source>.+)\.(?P<kind>retry|dlq)\.(?P<group>wegweiser-[a-z]+(?:-[a-z]+)*)")


# --- helpers ---------------------------------------------------------------------------------------------


def load_documents(path: Path) -> list[Any]:
    """Every YAML document of a file (merge keys and anchors resolved), empty documents dropped."""
    yaml = YAML(typ="safe", pure=True)
    with path.open(encoding="utf-8") as stream:
        return [doc for doc in yaml.load_all(stream) if doc is not None]


def env_fields(settings_class: type[BaseSettings]) -> dict[str, str]:
    """Environment variable name -> field name, as the settings class is meant to be configured.

    A field with a validation alias is read by its shared, unprefixed name (``KAFKA_BOOTSTRAP_SERVERS``);
    any other field by the class's ``env_prefix`` plus its name (``INTAKE_DATABASE_URL``).
    """
    prefix = str(settings_class.model_config.get("env_prefix", ""))
    names: dict[str, str] = {}
    for field_name, field in settings_class.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update({choice.upper(): field_name for choice in alias.choices if isinstance(choice, str)})
        elif isinstance(alias, str):
            names[alias.upper()] = field_name
        else:
            names[f"{prefix}{field_name}".upper()] = field_name
    return names


def default_port(settings_class: type[BaseSettings]) -> int:
    port = settings_class.model_fields["port"].default
    assert isinstance(port, int)
    return port


def interpolate(value: object) -> str:
    """A compose value as the container sees it when the user sets nothing: defaults taken, and a
    stand-in for variables the user must set (``${NAME:?message}``)."""

    def substitute(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        if operator in (":-", "-"):
            return argument
        return f"value-the-user-sets-for-{name}"

    return re.sub(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}", substitute, str(value))


def compose() -> dict[str, Any]:
    (document,) = load_documents(COMPOSE_FILE)
    assert isinstance(document, dict)
    return document


def compose_environment(service: Mapping[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):  # the ["NAME=value", ...] form
        environment = dict(item.split("=", 1) for item in environment)
    return {name: interpolate(value) for name, value in environment.items()}


def published_ports(service: Mapping[str, Any]) -> list[tuple[int, int]]:
    """(host port, container port) of every mapping, short ("8001:8001") or long syntax."""
    ports = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports.append((int(entry["published"]), int(entry["target"])))
        else:
            *host, container = str(entry).split("/")[0].split(":")
            ports.append((int(host[-1]) if host else int(container), int(container)))
    return ports


def k8s_documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(K8S_DIR.rglob("*.yaml")):
        for document in load_documents(path):
            yield path, document


def matches_settings(settings: BaseSettings, field_name: str, raw: str) -> bool:
    actual = getattr(settings, field_name)
    if isinstance(actual, bool):
        return actual == (raw.strip().lower() in {"1", "true", "yes", "on"})
    return str(actual) == raw


# --- (a) the compose file against the compose specification -----------------------------------------------


def test_compose_file_is_valid_under_the_compose_specification() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "version" not in compose(), "the compose specification has no top-level version: key"


# --- (b) the four services in the compose file against their settings classes ------------------------------


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_compose_service_matches_its_settings_class(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_class = SETTINGS[name]
    service = compose()["services"][name]
    port = default_port(settings_class)
    prefix = name.upper()

    assert f"wegweiser.{name}" in " ".join(map(str, service["command"]))
    assert published_ports(service) == [(port, port)]

    environment = compose_environment(service)
    accepted = env_fields(settings_class) | env_fields(KafkaSecurity)
    unknown = sorted(set(environment) - set(accepted))
    assert not unknown, f"{name} sets names its settings class does not read: {unknown}"
    for required in (f"{prefix}_DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", f"{prefix}_HOST"):
        assert required in environment, f"{name} must set {required}"
    assert environment[f"{prefix}_HOST"] == "0.0.0.0"
    assert environment.get(f"{prefix}_PORT", str(port)) == str(port)
    database_url = environment[f"{prefix}_DATABASE_URL"]
    assert re.fullmatch(rf"postgresql\+asyncpg://[^@]+@postgres:5432/{name}", database_url), database_url
    assert environment["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"

    # The settings class really picks every value up (nothing from this machine's environment leaks in).
    for variable in accepted:
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    settings = settings_class(_env_file=None)
    for variable, value in environment.items():
        assert matches_settings(settings, accepted[variable], value), f"{variable} is not read as {value!r}"


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_compose_service_waits_for_healthy_dependencies(name: str) -> None:
    services = compose()["services"]
    service = services[name]
    for dependency in ("kafka", "postgres"):
        assert service["depends_on"][dependency]["condition"] == "service_healthy"
        assert services[dependency]["healthcheck"]["test"]
    probe = " ".join(service["healthcheck"]["test"])
    assert f"127.0.0.1:{default_port(SETTINGS[name])}/health/ready" in probe


def test_compose_auth_settings_point_at_the_keycloak_realm() -> None:
    realm = json.loads(REALM_FILE.read_text(encoding="utf-8"))
    audience_clients = {
        mapper["config"]["included.client.audience"]
        for client in realm["clients"]
        for mapper in client.get("protocolMappers", [])
        if mapper["protocolMapper"] == "oidc-audience-mapper"
    }
    services = compose()["services"]
    for name in SETTINGS:
        environment = compose_environment(services[name])
        assert environment["AUTH_ISSUER"] == f"http://localhost:8080/realms/{realm['realm']}"
        assert environment["AUTH_JWKS_URL"] == (
            f"http://keycloak:8080/realms/{realm['realm']}/protocol/openid-connect/certs"
        )
        assert audience_clients == {environment["AUTH_AUDIENCE"]}
    keycloak = services["keycloak"]
    assert "--import-realm" in keycloak["command"]
    assert any(str(volume).startswith("./deploy/compose/keycloak:") for volume in keycloak["volumes"])


def test_keycloak_realm_carries_the_roles_and_claims_the_services_read() -> None:
    realm = json.loads(REALM_FILE.read_text(encoding="utf-8"))
    assert realm["realm"] == "wegweiser"
    assert {role["name"] for role in realm["roles"]["realm"]} == set(auth.ROLES)
    for client in realm["clients"]:
        claims = {
            mapper["config"]["claim.name"]: mapper["config"]
            for mapper in client["protocolMappers"]
            if mapper["protocolMapper"] == "oidc-usermodel-attribute-mapper"
        }
        assert set(claims) == set(TOKEN_CLAIMS), client["clientId"]
        assert all(config["access.token.claim"] == "true" for config in claims.values())
        assert claims["ags"]["multivalued"] == "true"
    for user in realm["users"]:
        roles = set(user["realmRoles"]) - {"default-roles-wegweiser"}
        assert roles and roles <= set(auth.ROLES), user["username"]
        assert set(user.get("attributes", {})) <= set(TOKEN_CLAIMS), user["username"]
    confidential = [c for c in realm["clients"] if not c["publicClient"] and c["serviceAccountsEnabled"]]
    assert confidential, "a confidential client for an authority (client credentials) is expected"


def test_compose_postgres_creates_the_database_each_service_uses() -> None:
    sql = POSTGRES_INIT.read_text(encoding="utf-8")
    roles = dict(re.findall(r"CREATE ROLE (\w+) LOGIN PASSWORD '([^']*)'", sql))
    owners = dict(re.findall(r"CREATE DATABASE (\w+) OWNER (\w+)", sql))
    assert set(owners) == set(SETTINGS)
    services = compose()["services"]
    for name in SETTINGS:
        url = compose_environment(services[name])[f"{name.upper()}_DATABASE_URL"]
        credentials = re.fullmatch(r"postgresql\+asyncpg://(\w+):([^@]*)@postgres:5432/(\w+)", url)
        assert credentials, url
        user, password, database = credentials.groups()
        assert owners[database] == user and roles[user] == password, name
    mounts = [str(volume) for volume in services["postgres"]["volumes"]]
    assert any(
        mount.startswith(f"./{POSTGRES_INIT.relative_to(ROOT)}:/docker-entrypoint-initdb.d/")
        for mount in mounts
    )


# --- (c) the Kubernetes manifests ---------------------------------------------------------------------------


def test_every_k8s_document_parses_and_the_kustomization_lists_existing_files() -> None:
    documents = list(k8s_documents())
    assert documents
    for path, document in documents:
        assert isinstance(document, dict) and document.get("kind"), path
        if document["kind"] != "Kustomization":
            assert document.get("apiVersion") and document["metadata"]["name"], path
    (kustomization,) = load_documents(K8S_DIR / "kustomization.yaml")
    for resource in kustomization["resources"]:
        assert (K8S_DIR / resource).is_file(), resource


def _retention_ms(document: Mapping[str, Any]) -> int | None:
    config = document["spec"].get("config", {})
    if config.get("cleanup.policy") == "compact":
        return None
    return int(config["retention.ms"])


def test_every_kafka_topic_is_declared_in_code_or_a_partner_topic() -> None:
    seen: set[str] = set()
    for path, document in k8s_documents():
        if document["kind"] != "KafkaTopic":
            continue
        name = document["spec"].get("topicName") or document["metadata"]["name"]
        seen.add(name)
        spec = document["spec"]
        assert spec["replicas"] == 3, name
        if name in SPECS:
            declared = SPECS[name]
            assert spec["partitions"] == declared.partitions, name
            config = {
                key: str(value) for key, value in spec["config"].items() if key != "min.insync.replicas"
            }
            assert config == declared.configs(), name
        elif PARTNER_TOPIC.fullmatch(name):
            assert path.parent.name == "partners", f"{name}: partner topics come from the partner template"
            assert spec["partitions"] == 12 and _retention_ms(document) == topics.PERSONAL_RETENTION_MS, name
        elif error_topic := ERROR_TOPIC.fullmatch(name):
            source = error_topic["source"]
            assert source in SPECS or PARTNER_TOPIC.fullmatch(source), f"{name}: unknown source topic"
            source_personal = SPECS[source].personal_data if source in SPECS else True
            if error_topic["kind"] == "retry":
                expected = 7 * DAY_MS
            else:  # DLQ: 90 days, never longer than a source that holds personal data
                expected = topics.PERSONAL_RETENTION_MS if source_personal else 90 * DAY_MS
            assert _retention_ms(document) == expected, name
            source_partitions = SPECS[source].partitions if source in SPECS else 12
            assert spec["partitions"] == source_partitions, name
        else:
            pytest.fail(
                f"KafkaTopic {name} ({path.relative_to(ROOT)}) is not declared in wegweiser.common.topics"
            )
    missing = set(SPECS) - seen
    assert not missing, f"topics declared in code without a KafkaTopic: {sorted(missing)}"
    partner_kinds = {m[1] for name in seen if (m := PARTNER_TOPIC.fullmatch(name))}
    assert partner_kinds == {"referrals", "feedback"}, "the partner template declares both partner topics"


def _acl_topics(user: Mapping[str, Any]) -> dict[str, set[str]]:
    grants: dict[str, set[str]] = {}
    for acl in user["spec"]["authorization"]["acls"]:
        if acl["resource"]["type"] == "topic":
            key = acl["resource"]["name"] + ("*" if acl["resource"].get("patternType") == "prefix" else "")
            grants.setdefault(key, set()).update(acl["operations"])
    return grants


def test_kafka_users_keep_personal_topics_from_statistics_and_partners_to_their_own() -> None:
    users = {doc["metadata"]["name"]: doc for _, doc in k8s_documents() if doc["kind"] == "KafkaUser"}
    assert set(SETTINGS) <= set(users)
    personal = {spec.name for spec in topics.ALL if spec.personal_data}
    statistics = _acl_topics(users["statistics"])
    assert not personal & set(statistics), "statistics must not be able to read personal-data topics"
    prefixes = [key.removesuffix("*") for key in statistics if key.endswith("*")]
    assert not [topic for topic in personal if topic.startswith(tuple(prefixes))], "nor through a prefix ACL"
    (partner,) = [doc for name, doc in users.items() if name.startswith("partner-")]
    assert _acl_topics(partner) == {
        "wegweiser.partner.${PARTNER_ID}.referrals.v1": {"Read", "Describe"},
        "wegweiser.partner.${PARTNER_ID}.feedback.v1": {"Write", "Describe"},
    }


def test_k8s_deployments_set_only_names_the_settings_classes_read() -> None:
    config_maps = {
        doc["metadata"]["name"]: doc.get("data", {})
        for _, doc in k8s_documents()
        if doc["kind"] == "ConfigMap"
    }
    deployed: set[str] = set()
    for _, document in k8s_documents():
        if document["kind"] != "Deployment":
            continue
        for container in document["spec"]["template"]["spec"]["containers"]:
            command = " ".join(container.get("command", []))
            service = next((name for name in SETTINGS if f"wegweiser.{name}" in command), None)
            if service is None:
                continue
            deployed.add(service)
            settings_class = SETTINGS[service]
            names = {variable["name"] for variable in container.get("env", [])}
            for source in container.get("envFrom", []):
                names |= set(config_maps[source["configMapRef"]["name"]])
            # Helpers only used to assemble another value, e.g. $(DB_PASSWORD) inside the database URL.
            helpers = {
                helper
                for variable in container.get("env", [])
                for helper in re.findall(r"\$\((\w+)\)", str(variable.get("value", "")))
            }
            unknown = sorted(
                names - helpers - set(env_fields(settings_class)) - set(env_fields(KafkaSecurity))
            )
            assert not unknown, f"{service} Deployment sets names its settings class does not read: {unknown}"
            prefix = service.upper()
            assert {f"{prefix}_DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"} <= names, service
            # It logs in to Kafka as its own KafkaUser, with the password Strimzi wrote for that user.
            env = {variable["name"]: variable for variable in container.get("env", [])}
            assert env["KAFKA_SASL_USERNAME"]["value"] == service
            secret = env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
            assert secret == {"name": service, "key": "password"}, service
            assert [port["containerPort"] for port in container["ports"]] == [default_port(settings_class)]
    assert deployed == set(SETTINGS)


# --- (d) consumer groups, retry/DLQ topics, ACLs and KEDA triggers, derived from the code -------------------

SERVICES_DIR = ROOT / "services"
PARTNER_TEMPLATE = K8S_DIR / "partners" / "partner-template.yaml"
RETRY_DLQ_FILE = K8S_DIR / "kafka" / "retry-dlq-topics.yaml"
PARTNER_ID = "${PARTNER_ID}"  # the template's placeholder; the feedback topics exist one per partner
# Where a ConsumerEngine is constructed; a new place is a consumer this module does not know about yet.
ENGINE_CONSTRUCTORS = {
    "libs/common/src/wegweiser/common/runtime.py",  # ServiceRuntime: the apps' ConsumerSpecs
    "services/referrals/src/wegweiser/referrals/consumers.py",  # FeedbackConsumer: the partner topics
}


@dataclass(frozen=True)
class Consumed:
    """One (source topic, consumer group) pair: the engine keeps a retry and a DLQ topic for each."""

    service: str
    group: str
    source: topics.TopicSpec
    config: EngineConfig
    dynamic: bool = False  # one per partner: declared by partners/partner-template.yaml

    @property
    def retry(self) -> str:
        return retry_topic(self.source.name, self.group)

    @property
    def dlq(self) -> str:
        return dlq_topic(self.source.name, self.group)

    def expected(self) -> dict[str, tuple[int, int]]:
        """Topic name -> (partitions, retention.ms) as engine.retry_topics would create it."""
        partitions = self.source.partitions
        return {
            self.retry: (partitions, self.config.retry_retention_ms),
            self.dlq: (partitions, dlq_retention_ms(self.config, self.source.retention_ms)),
        }


@pytest.fixture(scope="module")
def apps() -> Iterator[dict[str, FastAPI]]:
    """Every service's app as ``python -m wegweiser.<service>`` builds it with default settings.

    Building opens no connection (database engine, broker and JWKS client connect on start-up). The
    environment of this machine is kept out, so the groups carry the default prefix, as in deploy/k8s
    (test_k8s_keeps_the_default_consumer_group_prefix).
    """
    with pytest.MonkeyPatch.context() as patch:
        for settings_class in SETTINGS.values():
            for variable in env_fields(settings_class):
                patch.delenv(variable, raising=False)
        yield {
            name: BUILDERS[name](settings_class(_env_file=None)) for name, settings_class in SETTINGS.items()
        }


def consumed(apps: Mapping[str, FastAPI]) -> list[Consumed]:
    """Every (topic, group) pair the services consume, as their apps wire them."""
    pairs: list[Consumed] = []
    for service, app in apps.items():
        runtime = app.state.referrals.runtime if service == "referrals" else app.state.runtime
        specs: list[ConsumerSpec] = runtime.consumer_specs
        pairs += [
            Consumed(service, spec.group, source, spec.config) for spec in specs for source in spec.topics
        ]
    # Referrals' partner feedback consumer runs beside the runtime; its topics are the Kafka partners in
    # its database (read at start-up), so the pair is the template's: one per partner.
    feedback: FeedbackConsumer = apps["referrals"].state.referrals.feedback
    pairs.append(
        Consumed(
            "referrals",
            feedback.group,
            partner_feedback_topic(PARTNER_ID),
            feedback._config,  # what it hands its engine
            dynamic=True,
        )
    )
    # Statistics' rebuild has no group of its own: it replays without one (group_id=None), reads the live
    # group's committed offsets and its retry/DLQ topics, and places a new live group's offsets.
    statistics: Workers = apps["statistics"].state.workers
    assert statistics.rebuilder.live_group in {p.group for p in pairs if p.service == "statistics"}
    return pairs


def groups_by_service(pairs: list[Consumed]) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for pair in pairs:
        groups.setdefault(pair.service, set()).add(pair.group)
    return groups


def kafka_topics(path: Path) -> dict[str, dict[str, Any]]:
    return {
        doc["spec"].get("topicName") or doc["metadata"]["name"]: doc
        for doc in load_documents(path)
        if doc["kind"] == "KafkaTopic"
    }


def kafka_users() -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in k8s_documents() if doc["kind"] == "KafkaUser"}


def allowed(user: Mapping[str, Any], resource_type: str, name: str) -> set[str]:
    """Operations a KafkaUser's simple-authorization ACLs allow on one resource (literal or prefix rules)."""
    operations: dict[str, set[str]] = {"allow": set(), "deny": set()}
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        if resource["type"] != resource_type:
            continue
        pattern = resource.get("name", "*")
        if resource.get("patternType", "literal") == "prefix":
            matches = name.startswith(pattern)
        else:
            matches = pattern in (name, "*")
        if matches:
            ops = set(acl.get("operations") or [acl["operation"]])
            operations[acl.get("type", "allow")] |= ops
    granted, denied = operations["allow"], operations["deny"]
    if "All" in granted:
        granted = granted | {"Read", "Write", "Describe"}
    return granted - denied


def test_the_consumers_are_found_where_the_code_builds_them(apps: dict[str, FastAPI]) -> None:
    """The enumeration in ``consumed`` is complete: no consumer group or engine outside what it reads."""
    constructors = {
        str(path.relative_to(ROOT))
        for path in [*(ROOT / "libs").glob("*/src/**/*.py"), *SERVICES_DIR.glob("*/src/**/*.py")]
        if re.search(r"\bConsumerEngine\(", path.read_text(encoding="utf-8"))
    }
    assert constructors == ENGINE_CONSTRUCTORS, "a new ConsumerEngine: add its (topic, group) pairs here"
    named = {
        f"wegweiser-{suffix}"
        for path in SERVICES_DIR.glob("*/src/**/*.py")
        for suffix in re.findall(r"consumer_group\(\s*[\"']([^\"']+)[\"']", path.read_text(encoding="utf-8"))
    }
    found = {pair.group for pair in consumed(apps)}
    assert named == found, (
        f"named in the code only: {sorted(named - found)}; found only: {sorted(found - named)}"
    )


def test_k8s_keeps_the_default_consumer_group_prefix() -> None:
    """The groups below carry the default prefix; a deployment that changed it would need other ACLs."""
    for _, document in k8s_documents():
        if document["kind"] == "ConfigMap":
            assert "WEGWEISER_CONSUMER_GROUP_PREFIX" not in document.get("data", {})
        if document["kind"] == "Deployment":
            for container in document["spec"]["template"]["spec"]["containers"]:
                names = {variable["name"] for variable in container.get("env", [])}
                assert "WEGWEISER_CONSUMER_GROUP_PREFIX" not in names


def test_every_consumed_topic_has_its_retry_and_dlq_kafka_topic(apps: dict[str, FastAPI]) -> None:
    pairs = consumed(apps)
    fixed = kafka_topics(RETRY_DLQ_FILE)
    template = kafka_topics(PARTNER_TEMPLATE)
    for pair in pairs:
        declared = template if pair.dynamic else fixed
        where = (PARTNER_TEMPLATE if pair.dynamic else RETRY_DLQ_FILE).relative_to(ROOT)
        for name, (partitions, retention) in pair.expected().items():
            assert name in declared, (
                f"{pair.service} consumes {pair.source.name} as {pair.group}: {name} missing in {where}"
            )
            document = declared[name]
            assert document["spec"]["partitions"] == partitions, name
            assert _retention_ms(document) == retention, name
            assert document["spec"]["config"]["cleanup.policy"] == "delete", name
    # ... and none for a pair the code does not consume (a renamed group leaves its old topics behind).
    wanted = {name for pair in pairs for name in pair.expected()}
    stale = sorted(name for name in [*fixed, *template] if ERROR_TOPIC.fullmatch(name) and name not in wanted)
    assert not stale, f"retry/DLQ topics of no (topic, group) the code consumes: {stale}"


def test_each_service_user_may_use_its_groups_and_their_topics(apps: dict[str, FastAPI]) -> None:
    pairs = consumed(apps)
    users = kafka_users()
    groups = groups_by_service(pairs)
    for pair in pairs:
        user = users[pair.service]
        assert {"Read", "Describe"} <= allowed(user, "group", pair.group), (
            f"{pair.service}: group {pair.group}"
        )
        assert {"Read", "Describe"} <= allowed(user, "topic", pair.source.name), (
            f"{pair.service} cannot read {pair.source.name}"
        )
        for name in (pair.retry, pair.dlq):
            assert {"Read", "Write", "Describe"} <= allowed(user, "topic", name), f"{pair.service}: {name}"
    for service, user in users.items():
        own = groups.get(service, set())
        # Exactly its own groups: no other service's, and no literal group the code does not use.
        for other, theirs in groups.items():
            if other != service:
                for group in theirs:
                    assert "Read" not in allowed(user, "group", group), (
                        f"{service} may join {other}'s {group}"
                    )
        for acl in user["spec"]["authorization"]["acls"]:
            resource = acl["resource"]
            literal = resource.get("patternType", "literal") == "literal"
            # (A partner's groups are its own, named after it: partner-<id>, partner-<id>-...)
            if resource["type"] == "group" and literal and not service.startswith("partner-"):
                assert resource["name"] in own, f"{service}: ACL for group {resource['name']} no code uses"
        # No ACL for the retry/DLQ topic of a pair the code does not consume.
        wanted = {name for pair in pairs for name in (pair.retry, pair.dlq)}
        for acl in user["spec"]["authorization"]["acls"]:
            resource = acl["resource"]
            if resource["type"] == "topic" and ERROR_TOPIC.fullmatch(resource["name"]):
                assert resource["name"] in wanted, f"{service}: ACL for stale topic {resource['name']}"


def test_keda_scales_each_service_on_the_lag_of_every_group_it_consumes(apps: dict[str, FastAPI]) -> None:
    groups = groups_by_service(consumed(apps))
    triggers: dict[str, set[str]] = {}
    for _, document in k8s_documents():
        if document["kind"] != "ScaledObject":
            continue
        service = document["spec"]["scaleTargetRef"]["name"]
        triggers[service] = {
            trigger["metadata"]["consumerGroup"]
            for trigger in document["spec"]["triggers"]
            if trigger["type"] == "kafka"
        }
    assert triggers == {service: own for service, own in groups.items() if own}


# --- (e) the KafkaUsers are wegweiser.common.kafka_acls's table ---------------------------------------------


def _bindings(acls: list[Mapping[str, Any]]) -> set[tuple[str, str, str, str]]:
    """(resource type, name, pattern type, operation) of every allow rule."""
    return {
        (acl["resource"]["type"], acl["resource"]["name"], acl["resource"].get("patternType", "literal"), op)
        for acl in acls
        if acl.get("type", "allow") == "allow"
        for op in acl.get("operations") or [acl["operation"]]
    }


def test_kafka_users_grant_exactly_what_the_acl_table_grants() -> None:
    """Services and KEDA in kafka/users.yaml, the partner in the template: the table's ACLs, no more."""
    users = kafka_users()
    table = kafka_acls.acl_table(partners=[PARTNER_ID])
    assert set(users) == set(table)
    for principal, grants in table.items():
        declared = _bindings(users[principal]["spec"]["authorization"]["acls"])
        assert declared == _bindings([grant.strimzi() for grant in grants]), principal


def test_the_acl_table_knows_every_consumer_group_and_its_topics(apps: dict[str, FastAPI]) -> None:
    pairs = consumed(apps)
    table = {
        (service, consumer_group_id(consumer.group), spec.name)
        for service, access in kafka_acls.SERVICES.items()
        for consumer in access.consumes
        for spec in consumer.topics
    }
    assert table == {(p.service, p.group, p.source.name) for p in pairs if not p.dynamic}
    # The partner feedback group reads topics that come and go; the table grants them by prefix.
    hub = {
        (service, consumer_group_id(consumer.group))
        for service, access in kafka_acls.SERVICES.items()
        for consumer in access.consumes
        if consumer.partner_feedback
    }
    assert hub == {(p.service, p.group) for p in pairs if p.dynamic}
    assert all(p.source.name.startswith(kafka_acls.PARTNER_TOPIC_PREFIX) for p in pairs if p.dynamic)
