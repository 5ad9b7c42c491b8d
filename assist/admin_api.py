"""Admin API for operating integrations: recent webhook deliveries and their payloads."""

from flask import Blueprint, Response, current_app, jsonify, request

from .auth import require
from .errors import ApiError
from .validation import query_int

admin_api = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")


@admin_api.get("/webhooks")
@require("admin")
def webhook_deliveries():
    """Recent deliveries with each event's outcome, plus recently rejected requests."""
    inbox = current_app.extensions["assist"].inbox
    limit = query_int("limit", 1, 500, 50)
    connector = (request.args.get("connector") or "").strip() or None
    return jsonify({
        "deliveries": inbox.recent(limit, connector),
        "rejected": [r for r in inbox.rejected if not connector or r["connector"] == connector][:limit],
        "events_by_state": inbox.counts(),
        "retention_days": current_app.config["WEBHOOK_RETENTION_DAYS"],
    })


@admin_api.get("/webhooks/<int:delivery_id>/payload")
@require("admin")
def webhook_payload(delivery_id):
    """The raw body of one delivery, as received (until the retention period purges it)."""
    body = current_app.extensions["assist"].inbox.payload(delivery_id)
    if body is None:
        raise ApiError(404, "not_found", "No stored payload for this delivery (unknown or purged).", "delivery_id")
    return Response(body, mimetype="application/octet-stream")
