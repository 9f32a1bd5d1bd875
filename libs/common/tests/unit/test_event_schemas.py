"""A committed schema may only grow within its version; this fails on a breaking model change."""

from wegweiser.common.schemas import breaking_changes, committed_schemas, current_schemas


def test_every_event_type_has_a_committed_schema() -> None:
    assert set(current_schemas()) == set(committed_schemas())


def test_current_models_are_compatible_with_committed_schemas() -> None:
    current = current_schemas()
    problems = {t: breaking_changes(old, current[t]) for t, old in committed_schemas().items()}
    assert {t: p for t, p in problems.items() if p} == {}


def test_the_check_detects_removed_retyped_and_newly_required_fields() -> None:
    old = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
        "required": ["a"],
    }
    new = {
        "type": "object",
        "properties": {"b": {"type": "string"}, "c": {"type": "string"}},
        "required": ["c"],
    }
    assert sorted(breaking_changes(old, new)) == [
        ".a: removed",
        ".b: type integer became string",
        ".c: newly required",
    ]
    grown = {
        **old,
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}, "d": {"type": "string"}},
    }
    assert breaking_changes(old, grown) == []
