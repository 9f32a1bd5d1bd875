"""The partner inbox's message catalogue: German first, English through the language switch.

The texts are in ``messages.toml`` next to this module, on top of the shared frame's.
"""

from __future__ import annotations

from pathlib import Path

from wegweiser.common.web.messages import Catalogue

CATALOGUE = Catalogue.with_frame(Path(__file__).with_name("messages.toml"))
t = CATALOGUE.t
