"""The Java anchors of the benchmarks (bench/anchors/) name the right artifacts; checked without Maven.

CI never builds Java or runs a benchmark: this only reads the POMs and the benchmarks' sources, so
that a rename or a version bump on one side cannot leave the other behind unnoticed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANCHORS = ROOT / "bench" / "anchors"
NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def pom(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def dependencies(module: str) -> dict[str, ET.Element]:
    """groupId:artifactId → <dependency> of a module's POM."""
    root = pom(ANCHORS / module / "pom.xml")
    return {
        f"{d.findtext('m:groupId', namespaces=NS)}:{d.findtext('m:artifactId', namespaces=NS)}": d
        for d in root.findall("m:dependencies/m:dependency", NS)
    }


def test_the_parent_builds_both_anchors_with_the_brokers_kafka_version() -> None:
    parent = pom(ANCHORS / "pom.xml")
    modules = [m.text for m in parent.findall("m:modules/m:module", NS)]
    assert modules == ["parallel-consumer", "kafka-streams"]
    broker = re.search(
        r'KAFKA_VERSION="\$\{WEGWEISER_KAFKA_VERSION:-([^}]+)\}"',
        (ROOT / "deploy/local/kafka.sh").read_text(),
    )
    assert broker is not None
    assert parent.findtext("m:properties/m:kafka.version", namespaces=NS) == broker.group(1)
    assert parent.findtext("m:properties/m:maven.compiler.release", namespaces=NS) == "17"


def test_parallel_consumer_is_confluents_without_the_unserved_test_helper() -> None:
    deps = dependencies("parallel-consumer")
    pc = deps["io.confluent.parallelconsumer:parallel-consumer-core"]
    assert pc.findtext("m:version", namespaces=NS) == "0.5.3.2"
    excluded = [e.findtext("m:groupId", namespaces=NS) for e in pc.findall("m:exclusions/m:exclusion", NS)]
    assert excluded == ["io.stubbs.truth"]


def test_kafka_streams_is_apaches_at_the_brokers_version() -> None:
    streams = dependencies("kafka-streams")["org.apache.kafka:kafka-streams"]
    assert streams.findtext("m:version", namespaces=NS) == "${kafka.version}"


def test_every_anchor_a_benchmark_runs_has_its_main_class() -> None:
    runs = [
        match.groups()
        for source in (ROOT / "bench").glob("*.py")
        for match in re.finditer(r'jvm_anchors\.run[(,]\s*"([\w-]+)",\s*"(\w+)"', source.read_text())
    ]
    assert {module for module, _ in runs} == {"parallel-consumer", "kafka-streams"}
    for module, main in runs:
        assert (ANCHORS / module / "src/main/java/de/wegweiser/bench" / f"{main}.java").is_file(), (
            module,
            main,
        )
