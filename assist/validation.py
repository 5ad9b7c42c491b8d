"""Parse and check request input; every failure is a 400 naming the field."""

import json

from flask import request

from .errors import ApiError, bad_request

_MISSING = object()


def json_body():
    """The request body as a JSON object, or a 400 saying why not."""
    if not request.mimetype or request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.", "Content-Type")
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise bad_request("The request body is empty; send a JSON object.", "body", "empty_body")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise bad_request(f"The body is not valid JSON: {e}", "body", "invalid_json") from e
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.", "body")
    return body


def reject_unknown(body, allowed, prefix=""):
    """400 on fields we do not know, so a typo is not silently ignored."""
    for name in body:
        if name not in allowed:
            raise bad_request(f"Unknown field {prefix}{name!r}; expected one of: {', '.join(allowed)}.", prefix + name)


def text(body, name, required=False, max_chars=5000, field=None):
    """A string field: required or optional, non-blank, at most ``max_chars``."""
    field = field or name
    value = body.get(name, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise bad_request(f"{field} is required.", field, "missing")
        return None
    if not isinstance(value, str):
        raise bad_request(f"{field} must be a string.", field, "wrong_type")
    if not value.strip():
        raise bad_request(f"{field} must not be empty.", field, "empty")
    if len(value) > max_chars:
        raise bad_request(f"{field} is {len(value)} characters; the limit is {max_chars}.", field, "too_long")
    return value


def choice(body, name, allowed, default=None, field=None):
    """A string field that must be one of ``allowed``."""
    field = field or name
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str) or value not in allowed:
        raise bad_request(f"{field} must be one of: {', '.join(allowed)}.", field, "invalid_choice")
    return value


def integer(body, name, low, high, default):
    """An integer field within [low, high] (booleans are not integers)."""
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{name} must be an integer from {low} to {high}.", name, "wrong_type")
    if not low <= value <= high:
        raise bad_request(f"{name} must be from {low} to {high}.", name, "out_of_range")
    return value


def query_choice(name, allowed):
    """A query-string parameter restricted to ``allowed`` (None when absent)."""
    value = request.args.get(name)
    if value is None:
        return None
    if value not in allowed:
        raise bad_request(f"{name} must be one of: {', '.join(allowed)}.", name, "invalid_choice")
    return value


def query_int(name, low, high, default):
    """An integer query-string parameter within [low, high]."""
    value = request.args.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError as e:
        raise bad_request(f"{name} must be an integer.", name, "wrong_type") from e
    if not low <= number <= high:
        raise bad_request(f"{name} must be from {low} to {high}.", name, "out_of_range")
    return number
