"""Intake's test builders: request bodies and authority tokens (fixtures, so every test file can use them)."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wegweiser.common import devtokens
from wegweiser.common.devstack import DEMO_PERSONS
from wegweiser.intake.settings import IntakeSettings

Body = Callable[..., dict[str, Any]]
Headers = Callable[..., dict[str, str]]


def _household(reference: str, *, ags: str = "08111000", **overrides: Any) -> dict[str, Any]:
    return {
        "authority_reference": reference,
        "ags": ags,
        "allocation_date": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
        "facility": "LEA Ellwangen",
        "persons": copy.deepcopy(DEMO_PERSONS),
        **overrides,
    }


@pytest.fixture
def household() -> Body:
    """A valid two-person household body for ``POST /v1/arrivals``; keyword arguments override fields."""
    return _household


@pytest.fixture
def authority(dev_keys: Path) -> Headers:
    """Headers of a reception authority allowed to allocate to ``ags`` (default: Stuttgart)."""

    def headers(
        authority_id: str = "uab-08111", ags: tuple[str, ...] = ("08111000",), **extra: str
    ) -> dict[str, str]:
        token = devtokens.mint(
            subject=f"sb-{authority_id}",
            roles=["reception_authority"],
            key_dir=dev_keys,
            authority_id=authority_id,
            ags=list(ags),
        )
        return {"Authorization": f"Bearer {token}", **extra}

    return headers


@pytest.fixture
def intake_settings(service_env: dict[str, Any], database_url: str) -> Callable[..., IntakeSettings]:
    def settings(**overrides: Any) -> IntakeSettings:
        return IntakeSettings(database_url=database_url, **{**service_env, **overrides})

    return settings
