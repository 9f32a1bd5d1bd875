"""The Java anchors in ``bench/anchors/`` (Parallel Consumer, Kafka Streams): built and run from here.

The Maven build uses the same repository cache as ``deploy/local/kafka.sh`` (outside the clone). It
tries offline first, so a warm machine downloads nothing; only a cold cache goes to Maven Central.
Each anchor prints one JSON line of figures on stdout, which ``run`` returns.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

ANCHORS = Path(__file__).resolve().parent / "anchors"
MAVEN_REPO = Path(os.environ.get("WEGWEISER_CACHE", Path.home() / ".cache" / "wegweiser")) / "maven-repo"
PACKAGE = "de.wegweiser.bench"


def build() -> None:
    """``mvn package`` of both anchors: offline when the cache has everything, else online once."""
    command = ["mvn", "-B", "-q", "-Dstyle.color=never", f"-Dmaven.repo.local={MAVEN_REPO}"]
    command += ["-f", str(ANCHORS / "pom.xml"), "package"]
    if subprocess.run([*command, "-o"], capture_output=True, check=False).returncode == 0:
        return
    online = subprocess.run(command, capture_output=True, text=True, check=False)
    if online.returncode != 0:
        raise RuntimeError(f"the Java anchors did not build:\n{(online.stdout + online.stderr)[-3000:]}")


def run(module: str, main: str, *args: object, heap: str = "1g", timeout_s: float = 1800) -> dict[str, Any]:
    """Run ``PACKAGE.main`` of a built module with ``args``; its JSON line of figures."""
    target = ANCHORS / module / "target"
    command = [
        "java",
        f"-Xmx{heap}",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        "-cp",
        f"{target / 'classes'}:{target / 'lib'}/*",
        f"{PACKAGE}.{main}",
        *map(str, args),
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{main} failed ({out.returncode}):\n{(out.stdout + out.stderr)[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result
