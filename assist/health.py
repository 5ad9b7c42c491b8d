"""GET /healthz: is the service up, and with what."""

from flask import Blueprint, current_app, jsonify

from phrasebank.store import PhraseStore

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():
    """Status, model, approved phrase count and schema version (no auth, no secrets)."""
    services = current_app.extensions["assist"]
    store = PhraseStore(services.database.get())
    return jsonify(
        {
            "status": "ok" if all(c["status"] == "ok" for c in services.context.health.values()) else "degraded",
            "model": services.embedder.name,
            "embedding_runtime": services.embedder.runtime,
            "approved_phrases": store.count(status="approved"),
            "indexed_phrases": len(services.engine.index),
            "schema_version": services.schema_version(),
            "connectors": services.context.health,
            "webhook_events": services.inbox.counts(),
            "open_streams": services.hub.count(),
        }
    )
