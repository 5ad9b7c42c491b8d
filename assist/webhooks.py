"""POST /webhooks/<connector>: verify, store durably, acknowledge; processing happens after."""

import logging
import time

from flask import Blueprint, Response, current_app, request

from connectors.webhooks import MalformedPayload, WebhookError, WebhookRequest, receiver_for

from .errors import error_response

log = logging.getLogger(__name__)
webhooks = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _vendor_url():
    """The URL as the vendor called it (HubSpot signs it): the public base URL when behind a proxy."""
    public = current_app.config.get("PUBLIC_URL")
    if not public:
        return request.url
    path = request.full_path[:-1] if request.full_path.endswith("?") else request.full_path
    return public.rstrip("/") + path


@webhooks.post("/<connector>")
def receive(connector):
    """Verify the vendor's signature over the raw body, store every event, then acknowledge."""
    services = current_app.extensions["assist"]
    receiver = receiver_for(connector, services.config["CONNECTOR_SETTINGS"])
    if receiver is None:
        return error_response(404, "unknown_connector", f"No webhook receiver named {connector!r}.", "connector")
    incoming = WebhookRequest(
        method=request.method, url=_vendor_url(), body=request.get_data(cache=False),
        headers={k.lower(): v for k, v in request.headers.items()}, now=time.time(),
    )
    try:
        receiver.verify(incoming)
        events = receiver.parse(incoming)
    except WebhookError as e:
        services.inbox.reject(connector, e.status, e.code, e.message)
        log.warning("webhook %s rejected: %s", connector, e.code)
        return error_response(e.status, e.code, e.message, "signature" if e.status == 401 else "body")
    except (ValueError, TypeError, KeyError) as e:  # a receiver missed a malformed case
        error = MalformedPayload(f"malformed payload ({type(e).__name__})")
        services.inbox.reject(connector, 400, error.code, error.message)
        return error_response(400, error.code, error.message, "body")
    services.inbox.accept(connector, incoming.headers, receiver.stored_body(incoming.body), events)
    services.processor.wake()
    status, content_type, body = receiver.ack(events)
    return Response(body, status=status, content_type=content_type)
