"""Web plumbing the services' server-rendered pages share: KERN styles, the page frame, sign-in.

``TEMPLATES`` holds the frame (``kern/base.html``), the development login page and the macros;
``STATIC`` the frame's CSS and script plus the vendored KERN styles and fonts (``vendor/kern``,
third-party files), mounted at ``/static/common``.
Jinja2 itself is a dependency of the services that render pages, not of this library.
"""

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_URL = "/static/common"
