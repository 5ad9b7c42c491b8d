"""One JSON error shape for every failure: {"error": {"code", "message", "field"}}."""

import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

from phrasebank.errors import PhraseBankError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error to return to the client as JSON."""

    def __init__(self, status, code, message, field=None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def bad_request(message, field, code="invalid"):
    """Shortcut for a 400 naming the offending field."""
    return ApiError(400, code, message, field)


def error_response(status, code, message, field=None):
    """Build the JSON error response."""
    response = jsonify({"error": {"code": code, "message": message, "field": field}})
    response.status_code = status
    return response


def register_error_handlers(app):
    """Turn every exception into the JSON error shape; nothing escapes as HTML."""

    @app.errorhandler(ApiError)
    def _api_error(e):
        return error_response(e.status, e.code, e.message, e.field)

    @app.errorhandler(PhraseBankError)
    def _phrasebank_error(e):
        return error_response(e.status, e.code, e.message, e.field)

    @app.errorhandler(HTTPException)
    def _http_error(e):
        code = (e.name or "error").lower().replace(" ", "_")
        response = error_response(e.code or 500, code, e.description or e.name)
        if e.code == 405 and getattr(e, "valid_methods", None):
            response.headers["Allow"] = ", ".join(e.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(e):
        log.exception("unexpected error")
        return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")
