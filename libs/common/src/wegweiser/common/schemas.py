"""Committed JSON Schemas of the events, and the rule that a version only grows (docs/architecture.md).

``python -m wegweiser.common.schemas --write`` records the current models after an additive change.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from wegweiser.common.events import REGISTRY

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas" / "events"


def current_schemas() -> dict[str, dict[str, Any]]:
    return {ce_type: model.model_json_schema() for ce_type, model in REGISTRY.items()}


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return _resolve(root["$defs"][ref.removeprefix("#/$defs/")], root)
    return schema


def breaking_changes(
    old: dict[str, Any], new: dict[str, Any], *, old_root: Any = None, new_root: Any = None, path: str = ""
) -> list[str]:
    """What a reader of ``old`` can no longer rely on in ``new`` (removed, retyped, newly required)."""
    old_root, new_root = old_root or old, new_root or new
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    problems = []
    if old.get("type") != new.get("type"):
        problems.append(f"{path or '<root>'}: type {old.get('type')} became {new.get('type')}")
    if "enum" in old and not set(old["enum"]) <= set(new.get("enum", old["enum"])):
        problems.append(f"{path}: enum values removed")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"{path}.{name}: removed")
        else:
            problems += breaking_changes(
                old_prop, new_props[name], old_root=old_root, new_root=new_root, path=f"{path}.{name}"
            )
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"{path}.{name}: newly required")
    if "items" in old and "items" in new:
        problems += breaking_changes(
            old["items"], new["items"], old_root=old_root, new_root=new_root, path=f"{path}[]"
        )
    return problems


def committed_schemas() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(SCHEMA_DIR.glob("*.json"))}


def write() -> None:
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    for ce_type, schema in current_schemas().items():
        (SCHEMA_DIR / f"{ce_type}.json").write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--write", action="store_true", help="record the current schemas")
    if cli.parse_args().write:
        write()
