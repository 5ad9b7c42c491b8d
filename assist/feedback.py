"""Agent feedback on suggestions (POST /api/v1/feedback) and what it adds up to (GET /api/v1/analytics)."""

from flask import Blueprint, current_app, g, jsonify, request

from phrasebank import feedback

from . import validation as v
from .auth import require

feedback_api = Blueprint("feedback", __name__, url_prefix="/api/v1")


def _db():
    return current_app.extensions["assist"].database.get()


@feedback_api.post("/feedback")
@require("agent")
def record_feedback():
    """Store one event or {"events": [...]}: all or nothing, idempotent, committed before answering."""
    result = feedback.record(_db(), v.json_body(), agent=g.token["name"])
    return jsonify(result), 201


@feedback_api.get("/analytics")
@require("admin")
def analytics():
    """Shown/copied/inserted/thumbs per phrase and per day or week, and the never-used phrases."""
    args = request.args
    return jsonify(feedback.analytics(_db(), since=args.get("since"), until=args.get("until"),
                                      bucket=args.get("bucket") or "day", phrase_id=args.get("phrase_id")))
