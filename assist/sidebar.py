"""GET /sidebar: the extension's panel as a plain web page, for help desks that embed apps.

The page runs the very same ``panel.js`` and ``index.css`` as the Chrome side
panel, served from the repository's ``extension/sidepanel`` directory, plus a
small host glue (``assist/static/sidebar/sidebar.js``): the agent's token is
kept in sessionStorage and the backend is this origin. Inside Chatwoot's
dashboard-app iframe the glue accepts ``appContext`` messages only from the
origins in ``ASSIST_SIDEBAR_ORIGINS``, which are also the only sites allowed
to frame the page.
"""

import json
import logging
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, render_template

from .page_headers import secure_page

log = logging.getLogger(__name__)

PANEL_DIR = Path(__file__).resolve().parent.parent / "extension" / "sidepanel"
GLUE_DIR = Path(__file__).resolve().parent / "static" / "sidebar"
# Only these files are served: never a directory listing or a path from the URL.
FILES = {
    "panel.js": PANEL_DIR / "panel.js",
    "api.js": PANEL_DIR / "api.js",
    "render.js": PANEL_DIR / "render.js",
    "forms.js": PANEL_DIR / "forms.js",
    "index.css": PANEL_DIR / "index.css",
    "sidebar.js": GLUE_DIR / "sidebar.js",
    "sidebar.css": GLUE_DIR / "sidebar.css",
    "icon.png": PANEL_DIR.parent / "icons" / "icon-32.png",
}
MIMETYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}

sidebar = Blueprint("sidebar", __name__, template_folder="templates")


def origins_from_setting(value):
    """Parse ASSIST_SIDEBAR_ORIGINS (comma list) into normalised origins; bad entries are logged and skipped."""
    origins = []
    for item in str(value or "").split(","):
        item = item.strip().rstrip("/")
        if not item:
            continue
        parts = urlsplit(item)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
            log.warning("ASSIST_SIDEBAR_ORIGINS: %r is not an origin like https://chat.example.com; ignored", item)
            continue
        origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return origins


def content_security_policy(origins):
    """A strict CSP: our own scripts, styles and API only; framed only by the allowed origins."""
    ancestors = " ".join(["'self'", *origins])
    return ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
            f"base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}")


def _secure(response, origins):
    return secure_page(response, content_security_policy(origins), referrer="no-referrer")


@sidebar.get("/sidebar")
def page():
    """The sidebar page (the panel, a token form, the Chatwoot glue)."""
    origins = origins_from_setting(current_app.config.get("SIDEBAR_ORIGINS"))
    html = render_template("sidebar.html", allowed_origins=json.dumps(origins))
    response = current_app.response_class(html, mimetype="text/html")
    return _secure(response, origins)


@sidebar.get("/sidebar/static/<name>")
def static_file(name):
    """One of the allow-listed panel files."""
    path = FILES.get(name)
    if path is None or not path.is_file():
        abort(404)
    # A few small files: read them whole (no open file handle outlives the request).
    response = current_app.response_class(path.read_bytes(), mimetype=MIMETYPES[path.suffix])
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
