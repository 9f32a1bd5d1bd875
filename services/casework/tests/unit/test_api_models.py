"""The API's request models refuse bad input with a validation error (a 422), never with a crash (a 500)."""

import pytest
from pydantic import ValidationError

from wegweiser.casework.api.models import ContactIn


def test_a_contact_without_an_address_is_valid_and_a_long_address_is_a_validation_error() -> None:
    # Found by the API fuzz run: null for the address crashed the length check (TypeError, a 500).
    assert ContactIn.model_validate({"address": None, "email": "a@b.de"}).address is None
    assert ContactIn.model_validate({"address": "Hauptstr. 1"}).address == "Hauptstr. 1"
    with pytest.raises(ValidationError):
        ContactIn.model_validate({"address": "x" * 301})
