"""Message catalogues of the web pages: German first, English second, one ``t(key, lang)`` per service.

A missing key shows the key itself, so a gap is visible rather than silent. ``FRAME`` holds the texts
of the shared page frame and development login; a service adds its own keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FRAME: dict[str, tuple[str, str]] = {
    "skip": ("Zum Inhalt springen", "Skip to main content"),
    "nav.label": ("Hauptnavigation", "Main navigation"),
    "nav.logout": ("Abmelden", "Sign out"),
    "lang.switch": ("English", "Deutsch"),
    "lang.switch_label": ("Switch to English", "Auf Deutsch umschalten"),
    "signed_in_as": ("Angemeldet als {name}", "Signed in as {name}"),
    "footer": (
        "Wegweiser · Integrationsmanagement Baden-Württemberg · EUPL-1.2",
        "Wegweiser · Integration management Baden-Württemberg · EUPL-1.2",
    ),
    "login.title": ("Anmeldung (Entwicklung)", "Sign in (development)"),
    "login.intro": (
        "Diese Seite gibt es nur in der Entwicklungsumgebung. Im Betrieb melden Sie sich über das "
        "Anmeldeverfahren Ihrer Organisation (OpenID Connect) an.",
        "This page exists only in development. In production you sign in through your organisation's "
        "identity provider (OpenID Connect).",
    ),
    "login.as": ("Anmelden als {name}", "Sign in as {name}"),
    "login.disabled": (
        "Die Entwicklungsanmeldung ist ausgeschaltet. Bitte melden Sie sich über Ihre Organisation an.",
        "Development sign-in is disabled. Please sign in through your organisation.",
    ),
    "login.col_name": ("Name", "Name"),
    "login.col_role": ("Rolle", "Role"),
    "login.col_org": ("Organisation", "Organisation"),
    "login.col_action": ("Aktion", "Action"),
    "form.errors_title": ("Bitte prüfen Sie Ihre Angaben", "Please check your entries"),
    "error.csrf": (
        "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.",
        "The form has expired. Please reload the page and try again.",
    ),
}


class Catalogue:
    """``t(key, lang, **params)`` formats the message with ``str.format``."""

    def __init__(self, *parts: Mapping[str, tuple[str, str]]) -> None:
        self.messages: dict[str, tuple[str, str]] = {}
        for part in parts:
            self.messages.update(part)

    def t(self, key: str, lang: str = "de", **params: Any) -> str:
        pair = self.messages.get(key)
        if pair is None:
            return key
        text = pair[1] if lang == "en" else pair[0]
        return text.format(**params) if params else text
