"""The example partner receiver and the verification examples we publish, against what the worker sends.

The attacks of issue 13: a captured delivery replayed under a new ``webhook-id``, the same signed body
relabelled as another CloudEvents type, and the same request sent again.
"""

import datetime as dt
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

from wegweiser.common import events
from wegweiser.referrals.asyncapi import DESCRIPTION
from wegweiser.referrals.delivery.message import webhook_message
from wegweiser.referrals.delivery.signing import new_secret, signed_headers

EXAMPLE = Path(__file__).parents[2] / "examples" / "webhook_receiver.py"
NOW = 1_800_000_000
SECRET = new_secret()


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("webhook_receiver_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def delivery(webhook_id: str = "d-1") -> tuple[dict[str, str], bytes]:
    """Headers and body exactly as the worker sends them (CloudEvent in structured mode, signed)."""
    offer = events.PartnerReferralOffered.model_validate(
        {
            "ags": "08111000",
            "referral_id": uuid.uuid4(),
            "partner_id": "psz-stuttgart",
            "programme": "psychosozial",
            "requested_on": dt.date(2026, 11, 2),
            "respond_by": dt.datetime(2026, 11, 16, 23, tzinfo=dt.UTC),
            "referring_provider_id": "kreis-08111",
            "person": {"given_names": "Rania"},
        }
    )
    headers, body = webhook_message(offer)
    return headers | signed_headers(secret=SECRET, webhook_id=webhook_id, timestamp=NOW, body=body), body


def receiver() -> tuple[Any, list[dict[str, Any]]]:
    acted: list[dict[str, Any]] = []
    return load_example().Receiver(SECRET, acted.append), acted


def test_the_example_acts_once_on_a_genuine_delivery_and_refuses_its_replay() -> None:
    example, acted = receiver()
    headers, body = delivery()
    assert example.receive(headers, body, NOW + 5) == (204, "accepted")
    assert example.receive(headers, body, NOW + 60) == (204, "replay")  # same id: not acted on again
    assert len(acted) == 1
    assert acted[0]["type"] == events.PartnerReferralOffered.ce_type()
    assert acted[0]["data"]["person"]["given_names"] == "Rania"


def test_a_captured_delivery_under_a_new_id_is_refused() -> None:
    example, acted = receiver()
    headers, body = delivery("d-1")
    assert example.receive(headers | {"webhook-id": "d-2"}, body, NOW) == (401, "invalid")
    assert acted == []


def test_a_relabelled_type_breaks_the_signature_and_type_headers_are_not_trusted() -> None:
    example, acted = receiver()
    headers, body = delivery()
    withdrawn = events.PartnerReferralWithdrawn.ce_type()
    relabelled = json.dumps(json.loads(body) | {"type": withdrawn}).encode()
    assert example.receive(headers, relabelled, NOW) == (401, "invalid")
    assert example.receive(headers | {"ce-type": withdrawn}, body, NOW) == (204, "accepted")
    assert [e["type"] for e in acted] == [events.PartnerReferralOffered.ce_type()]  # from the signed body


def test_a_stale_timestamp_or_a_foreign_secret_is_refused() -> None:
    headers, body = delivery()
    assert receiver()[0].receive(headers, body, NOW + 301) == (401, "invalid")
    other = load_example().Receiver(new_secret(), lambda event: None)
    assert other.receive(headers, body, NOW) == (401, "invalid")


def test_the_published_python_example_verifies_what_the_worker_signs() -> None:
    [code] = re.findall(r"```python\n(.*?)```", DESCRIPTION, re.S)
    namespace: dict[str, Any] = {}
    exec(re.sub(r"^  ", "", code, flags=re.M), namespace)
    headers, body = delivery()
    namespace["time"] = SimpleNamespace(time=lambda: NOW)  # the example reads the clock itself
    assert namespace["verified"](SECRET, headers, body)
    assert not namespace["verified"](SECRET, headers | {"webhook-id": "d-2"}, body)


def test_the_published_javascript_example_verifies_what_the_worker_signs(tmp_path: Path) -> None:
    [code] = re.findall(r"```javascript\n(.*?)```", DESCRIPTION, re.S)
    node = shutil.which("node") or shutil.which("nodejs")
    assert node, "Node.js runs the published JavaScript example"
    headers, body = delivery()
    script = tmp_path / "verify.js"
    script.write_text(
        re.sub(r"^  ", "", code, flags=re.M)
        + f"\nDate.now = () => {NOW * 1000};\n"
        + f"const headers = {json.dumps(headers)};\n"
        + f"const body = Buffer.from({json.dumps(body.decode())});\n"
        + f"console.log(verified({json.dumps(SECRET)}, headers, body),"
        + f" verified({json.dumps(SECRET)}, {{...headers, 'webhook-id': 'd-2'}}, body));\n"
    )
    result = subprocess.run([node, str(script)], capture_output=True, text=True, check=True, timeout=30)
    assert result.stdout.split() == ["true", "false"]
