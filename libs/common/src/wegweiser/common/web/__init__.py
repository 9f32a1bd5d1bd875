"""Web plumbing the services' server-rendered pages share: KERN styles, the page frame, sign-in.

``TEMPLATES`` holds the frame (``kern/base.html``), the development login page and the macros;
``STATIC`` the vendored KERN styles and fonts plus the frame's CSS, mounted at ``/static/common``.
Jinja2 itself is a dependency of the services that render pages, not of this library.
"""

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_URL = "/static/common"
