"""GET /api/v1/customers/context: the customer card for the sidebar."""

from flask import Blueprint, current_app, jsonify, request

from .api import CUSTOMER_KEYS
from .auth import require
from .errors import bad_request

customers = Blueprint("customers", __name__, url_prefix="/api/v1/customers")


@customers.get("/context")
@require("agent")
def context():
    """The card for ?email=, ?phone= or ?id= (exactly one), from every enabled CRM."""
    unknown = [k for k in request.args if k not in CUSTOMER_KEYS]
    if unknown:
        raise bad_request(f"Unknown parameter {unknown[0]!r}; use one of: email, phone, id.", unknown[0])
    given = {k: request.args[k].strip() for k in CUSTOMER_KEYS if request.args.get(k, "").strip()}
    if len(given) != 1:
        raise bad_request("Give exactly one of: email, phone, id.", "email")
    key, value = next(iter(given.items()))
    if len(value) > 320:
        raise bad_request(f"{key} is too long.", key, "too_long")
    services = current_app.extensions["assist"]
    card = services.context.card(given, deadline=services.config["CONTEXT_DEADLINE_MS"] / 1000)
    return jsonify(card)  # "status" says ok, not_found, pending or error: all are states the sidebar shows
