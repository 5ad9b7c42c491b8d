"""Bearer-token authentication and role checks for the API."""

import functools
import hmac

from flask import current_app, g, request

from . import tokens
from .errors import ApiError


def _bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if not hmac.compare_digest(scheme.lower(), "bearer") or not value.strip():
        return None
    return value.strip()


def require(role):
    """Decorator: the request needs a valid token of ``role`` (admin implies agent)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            secret = _bearer_token()
            if secret is None:
                raise ApiError(401, "unauthorized", "Send 'Authorization: Bearer <token>'.", "Authorization")
            db = current_app.extensions["assist"].database.get()
            token = tokens.token_from_secret(db, secret)
            if token is None:
                raise ApiError(401, "unauthorized", "This token is not valid or was revoked.", "Authorization")
            if role == "admin" and token["role"] != "admin":
                raise ApiError(403, "forbidden", "This needs an admin token.", "Authorization")
            g.token = token
            return view(*args, **kwargs)

        return wrapped

    return decorator
