"""The web UI's message catalogue: every user-facing string, German first, English second.

The texts are in ``messages.toml`` next to this module, on top of the shared frame's; ``t(key, lang,
**params)`` formats with ``str.format``, and a missing key shows the key itself, so a gap is visible
rather than silent (a unit test checks that the code and the templates use no key it lacks).
"""

from __future__ import annotations

from pathlib import Path

from wegweiser.casework.domain.model import CaseRefused
from wegweiser.common.web.messages import Catalogue
from wegweiser.common.web.session import LANGUAGES

__all__ = ["CATALOGUE", "LANGUAGES", "refusal_text", "t"]

CATALOGUE = Catalogue.with_frame(Path(__file__).with_name("messages.toml"))
t = CATALOGUE.t

# A refusal's parameters that list field names, and the catalogue prefix of those fields' labels.
LABELLED_PARAMS = {"fields": "pf"}


def refusal_text(exc: CaseRefused, lang: str) -> str:
    """A domain refusal in the user's language, naming fields by their labels ("Anschrift", not "address").

    Why: the domain lists the fields by their code names; a reader of the page or the problem+json
    should not meet English code names in a German sentence (issue 14).
    """
    params = dict(exc.params)
    for name, prefix in LABELLED_PARAMS.items():
        if params.get(name):
            params[name] = ", ".join(t(f"{prefix}.{code}", lang) for code in params[name].split(", "))
    return t(f"r.{exc.code}", lang, **params)
