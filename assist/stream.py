"""GET /api/v1/stream?customer=...: Server-Sent Events with the customer's card on every update.

Each open stream holds one server thread, idle on a queue (see the README on
ASSIST_THREADS).  Event ids are webhook event ids, so a client reconnecting
with Last-Event-ID gets the current card at once if anything changed while it
was away, and nothing is missed.
"""

import json

from flask import Blueprint, Response, current_app, request, stream_with_context

from connectors.context import cache_key

from .auth import require
from .errors import bad_request

stream = Blueprint("stream", __name__, url_prefix="/api/v1")
HEARTBEAT_SECONDS = 15


def customer_ref(value):
    """Guess the kind of identifier: email, phone or CRM id."""
    value = value.strip()
    if "@" in value:
        return {"email": value}
    if value.lstrip("+").replace(" ", "").replace("-", "").replace("(", "").replace(")", "").isdigit():
        return {"phone": value}
    return {"id": value}


def _last_event_id():
    raw = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    if raw is None:
        return None
    if not raw.isdigit():
        raise bad_request("Last-Event-ID must be a number.", "Last-Event-ID")
    return int(raw)


@stream.get("/stream")
@require("agent")
def customer_stream():
    """Stream card updates for one customer (email, phone or id in ?customer=)."""
    value = request.args.get("customer", "").strip()
    if not value or len(value) > 320:
        raise bad_request("customer is required: an email, phone or id.", "customer")
    services = current_app.extensions["assist"]
    ref = customer_ref(value)
    keys = {cache_key(ref, services.config["PHONE_REGION"])}
    last = _last_event_id()
    subscription = services.hub.subscribe(keys)

    def card_event(event_id):
        card = services.context.card(ref, deadline=services.config["CONTEXT_DEADLINE_MS"] / 1000)
        return f"id: {event_id}\nevent: card\ndata: {json.dumps(card)}\n\n"

    def events():
        try:
            yield "retry: 2000\n\n"
            latest = max(services.inbox.latest_for(k) for k in keys)
            if last is None or latest > last:
                yield card_event(latest)
            while True:
                event_id = subscription.get(HEARTBEAT_SECONDS)
                if event_id is None:
                    yield ": keep-alive\n\n"
                    continue
                while (newer := subscription.get(0)) is not None:  # coalesce a burst into one card
                    event_id = max(event_id, newer)
                yield card_event(event_id)
        finally:
            services.hub.unsubscribe(subscription)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream_with_context(events()), mimetype="text/event-stream", headers=headers)
