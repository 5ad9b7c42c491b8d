"""Admin sign-in with an admin token, the session cookie, CSRF protection and security headers.

The session cookie (signed by Flask with the app's SECRET_KEY) holds only the
token's row id and a CSRF token, never the secret.  Each request re-reads the
token row, so revoking a token ends its sessions at once.  Every non-GET
request under /admin must carry the session's CSRF token, in the form field
``csrf_token`` or the ``X-CSRF-Token`` header.
"""

import functools
import hmac
import secrets
import threading
import time

from flask import current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException

from .. import tokens
from ..page_headers import secure_page
from . import admin

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
SESSION_HOURS = 12
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Failed sign-ins allowed per client address within the window, then 429 until it passes.
MAX_FAILURES = 10
FAILURE_WINDOW = 300.0


class AdminSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session: HttpOnly, SameSite=Strict, Secure whenever the request is https."""

    def get_cookie_samesite(self, app):
        return "Strict"

    def get_cookie_httponly(self, app):
        return True

    def get_cookie_secure(self, app):
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


class FailedSignIns:
    """Failed sign-in attempts per client address in a sliding window (in memory, per process)."""

    def __init__(self, limit=MAX_FAILURES, window=FAILURE_WINDOW):
        self.limit, self.window = limit, window
        self._seen = {}
        self._lock = threading.Lock()

    def _recent(self, key, now):
        return [t for t in self._seen.get(key, ()) if now - t < self.window]

    def blocked(self, key):
        """True when ``key`` has failed too often recently."""
        with self._lock:
            return len(self._recent(key, time.monotonic())) >= self.limit

    def add(self, key):
        """Record one failure for ``key``."""
        now = time.monotonic()
        with self._lock:
            self._seen[key] = [*self._recent(key, now), now]
            if len(self._seen) > 10000:  # bound memory under a spray of addresses
                self._seen = {k: v for k, v in self._seen.items() if self._recent(k, now)}


@admin.record_once
def _configure(state):
    app = state.app
    app.session_interface = AdminSessionInterface()
    app.config["SESSION_COOKIE_NAME"] = "assist_admin"
    app.extensions["assist_admin"] = {"failed_sign_ins": FailedSignIns()}


def csrf_token():
    """The session's CSRF token (created on first use); templates call it as ``csrf_token()``."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def is_api_request():
    """True for the JSON endpoints under /admin/api/."""
    return request.path.startswith(url_for("admin.index") + "api/")


def error_page(status, message, code=None):
    """An error as JSON ``{"error": {...}}`` for /admin/api/..., as a small HTML page otherwise."""
    if is_api_request():
        response = jsonify({"error": {"code": code or "error", "message": message, "field": None}})
        response.status_code = status
        return response
    return render_template("admin/error.html", status=status, message=message), status


@admin.context_processor
def _template_context():
    return {"csrf_token": csrf_token, "admin_user": g.get("admin")}


@admin.before_request
def _check_csrf():
    if request.method in SAFE_METHODS:
        return None
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return error_page(400, "The form expired or the CSRF token is missing. Reload the page and try again.",
                          "csrf_failed")
    return None


@admin.errorhandler(HTTPException)
def _http_error(e):
    # Admin pages answer errors with a page (the app-wide handler would send JSON).
    return error_page(e.code or 500, e.description or e.name, (e.name or "error").lower().replace(" ", "_"))


@admin.after_request
def _security_headers(response):
    response.headers["X-Frame-Options"] = "DENY"
    return secure_page(response, CSP, no_store=request.endpoint != "admin.static")


def _database():
    return current_app.extensions["assist"].database.get()


def _session_admin():
    """The signed-in admin as {"id", "name"}, or None (clearing a session whose token was revoked)."""
    token_id, signed_at = session.get("token_id"), session.get("signed_in_at", 0)
    if token_id is None:
        return None
    row = _database().execute(
        "select id, name, role from tokens where id = ? and revoked_at is null", [token_id]
    ).fetchone()
    if row is None or row[2] != "admin" or time.time() - signed_at > SESSION_HOURS * 3600:
        session.clear()
        return None
    return {"id": row[0], "name": row[1]}


def admin_required(view):
    """Decorator: the request needs a signed-in admin (sets ``g.admin``).

    Pages redirect to the sign-in page; /admin/api/... answers 401 JSON.
    """

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        g.admin = _session_admin()
        if g.admin is None:
            if is_api_request():
                return error_page(401, "Sign in to the admin app first (your session ended or was revoked).",
                                  "unauthorized")
            return redirect(url_for("admin.signin", next=request.full_path if request.method == "GET" else None))
        return view(*args, **kwargs)

    return wrapped


def _safe_next(target):
    """Only redirect back into the admin app (no open redirect)."""
    prefix = url_for("admin.index")
    if target and target.startswith(prefix) and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("admin.phrase_list")


def _client_key():
    return request.remote_addr or "unknown"


@admin.get("/signin")
def signin():
    """The sign-in form."""
    if _session_admin():
        return redirect(_safe_next(request.args.get("next")))
    return render_template("admin/signin.html", next=request.args.get("next", ""))


@admin.post("/signin")
def signin_submit():
    """Check the admin token and start a session; agents' tokens get 403."""
    failures = current_app.extensions["assist_admin"]["failed_sign_ins"]
    if failures.blocked(_client_key()):
        return render_template("admin/signin.html", error="Too many failed sign-ins from this address. "
                               "Wait a few minutes and try again.", next=""), 429
    token = tokens.token_from_secret(_database(), (request.form.get("token") or "").strip())
    if token is None:
        failures.add(_client_key())
        return render_template("admin/signin.html", error="That token is not valid or was revoked.",
                               next=request.form.get("next", "")), 401
    if token["role"] != "admin":
        return render_template("admin/signin.html", error="This is an agent token. The admin app needs an admin "
                               "token (`assist token create --role admin --name NAME` makes one).", next=""), 403
    session.clear()  # a fresh session (and CSRF token) on sign-in: no session fixation
    session.update(token_id=token["id"], signed_in_at=time.time(), csrf=secrets.token_urlsafe(32))
    flash(f"Signed in as {token['name']}.")
    return redirect(_safe_next(request.form.get("next")))


@admin.post("/signout")
def signout():
    """End the session."""
    session.clear()
    csrf_token()  # so the sign-in form that follows can be posted
    return redirect(url_for("admin.signin"))
