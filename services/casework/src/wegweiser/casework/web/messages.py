"""The web UI's message catalogue: every user-facing string, German first, English second.

The texts are in ``messages.toml`` next to this module, on top of the shared frame's; ``t(key, lang,
**params)`` formats with ``str.format``, and a missing key shows the key itself, so a gap is visible
rather than silent (a unit test checks that the code and the templates use no key it lacks).
"""

from __future__ import annotations

from pathlib import Path

from wegweiser.common.web.messages import Catalogue
from wegweiser.common.web.session import LANGUAGES

__all__ = ["CATALOGUE", "LANGUAGES", "t"]

CATALOGUE = Catalogue.with_frame(Path(__file__).with_name("messages.toml"))
t = CATALOGUE.t
