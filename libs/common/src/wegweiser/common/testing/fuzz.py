"""Property-based fuzzing of a service's API from its OpenAPI document (schemathesis): never a 5xx.

Shared by each service's quick fuzz test and the slow run over all four APIs, so both judge answers alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hypothesis
import schemathesis
from fastapi import FastAPI
from schemathesis import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans

Refusal = Callable[[schemathesis.Case, Any], bool]


def is_problem_json(case: schemathesis.Case, response: Any) -> bool:
    """The API's refusals are RFC 9457 problem documents."""
    return "application/problem+json" in str(response.headers.get("content-type", [""]))


def fuzz(
    app: FastAPI, headers: dict[str, str], examples: int, *, acceptable: Refusal = is_problem_json
) -> tuple[int, list[str]]:
    """Run ``examples`` positive and negative cases per operation; the request count and the 5xx found.

    A 4xx must satisfy ``acceptable``; the app's lifespans are shut down afterwards.
    """
    cases = 0
    failures: list[str] = []
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        for result in schema.get_all_operations():
            operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails loudly here
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @hypothesis.settings(
                    max_examples=examples,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    suppress_health_check=list(hypothesis.HealthCheck),
                    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                )
                @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
                def check(case: schemathesis.Case) -> None:
                    nonlocal cases
                    cases += 1
                    response = case.call(headers=headers)
                    curl = case.as_curl_command(headers=headers)
                    if response.status_code >= 500:
                        failures.append(f"{response.status_code} {curl}")
                    elif response.status_code >= 400:
                        assert acceptable(case, response), f"{response.status_code} {curl}"

                try:
                    check()
                except hypothesis.errors.Unsatisfiable:
                    # Nothing to get wrong (e.g. no parameters): no schema-violating request exists.
                    assert mode is GenerationMode.NEGATIVE, operation.label
    finally:
        shutdown_lifespans()
    return cases, failures
