"""The admin web app at /admin: sign-in, phrase curation, try a message, coverage, import/export, analytics.

One blueprint; each page family is a module that adds its views to it.  Pages
are server-rendered Jinja (autoescaped) with small static scripts: no inline
script, and a strict Content-Security-Policy on every response (see session.py).
"""

from flask import Blueprint

admin = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static")

from . import analytics, coverage, phrases, session, transfer  # noqa: E402,F401  (view modules register on the blueprint)
