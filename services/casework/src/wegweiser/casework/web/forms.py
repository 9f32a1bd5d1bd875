"""Form plumbing for the web UI: field specs the one form template renders, and inline error messages.

Invalid input re-renders the form with a message next to each field, in the user's language; pydantic's
error types map to catalogue keys, and domain refusals (``CaseRefused``) name their field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from wegweiser.casework.web.messages import t

Options = list[tuple[str, str]]


@dataclass
class Field:
    name: str
    label: str
    kind: str = "text"  # text | date | number | select | textarea | checkbox | checkboxes | email | tel
    value: Any = None
    options: Options = field(default_factory=list)
    hint: str | None = None
    required: bool = False
    error: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)

    @property
    def values(self) -> list[str]:
        """Selected values of a multi-choice field."""
        if self.value is None:
            return []
        return [str(v) for v in self.value] if isinstance(self.value, list | tuple) else [str(self.value)]


_TYPE_KEYS = {
    "missing": "v.missing",
    "date_parsing": "v.date",
    "date_from_datetime_parsing": "v.date",
    "date_type": "v.date",
    "int_parsing": "v.int",
    "int_type": "v.int",
    "greater_than": "v.gt",
    "greater_than_equal": "v.ge",
    "less_than_equal": "v.le",
    "string_too_long": "v.too_long",
    "string_too_short": "v.too_short",
    "literal_error": "v.choice",
    "enum": "v.choice",
    "string_pattern_mismatch": "v.pattern",
    "uuid_parsing": "v.choice",
    "uuid_type": "v.choice",
    "invisible_character": "v.invisible_character",
}
# Cross-field rules of the domain models raise ValueError with these words: they name the field.
_VALUE_ERRORS = {
    "interpreter_language": ("interpreter_language", "v.interpreter_language"),
    "guardian_name": ("guardian_name", "v.guardian_name"),
    "target_date": ("target_date", "v.target_date"),
}


def field_errors(
    exc: ValidationError, lang: str, *, prefix_map: dict[str, str] | None = None
) -> dict[str, str]:
    """One message per field, in ``lang``; the first error of a field wins."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        name = loc[0] if loc else ""
        key = _TYPE_KEYS.get(error["type"], "v.invalid")
        if error["type"] == "value_error":
            for word, (target, message_key) in _VALUE_ERRORS.items():
                if word in error["msg"]:
                    name, key = target, message_key
                    break
        if prefix_map and name in prefix_map:
            name = prefix_map[name]
        ctx = error.get("ctx") or {}
        limit = next((ctx[k] for k in ("gt", "ge", "le", "max_length", "min_length") if k in ctx), "")
        code_point = ctx.get("code_point", "")
        errors.setdefault(name or "form", t(key, lang, limit=limit, code_point=code_point))
    return errors


def blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return value


def apply(fields: list[Field], values: dict[str, Any], errors: dict[str, str]) -> list[Field]:
    """Put submitted values and error messages onto the field specs for re-rendering."""
    for f in fields:
        if f.name in values:
            f.value = values[f.name]
        f.error = errors.get(f.name)
    return fields


def required_label(f: Field, lang: str) -> str:
    return f.label if f.required else f"{f.label} {t('optional', lang)}"
