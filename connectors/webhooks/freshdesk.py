"""Freshdesk webhooks: the automation-rule template in docs/webhooks/freshdesk.md.

Freshdesk signs nothing.  The automation rule's "Trigger webhook" action sends
a custom header, ``X-Assist-Webhook-Secret``, which must equal
``ASSIST_FRESHDESK_WEBHOOK_SECRET`` (compared in constant time).  No timestamp
is signed, so there is no replay window: a replayed delivery carries the same
ticket id, ``updated_at`` and ``event``, hence the same idempotency key, and is
stored and applied once.

The body is JSON we define, ``{"assist_template": 1, "event": "ticket.updated",
"ticket": {...}, "contact": {...}, "company": ...}``, filled by Freshdesk
placeholders; status and priority arrive as their labels ("Open", "High").
"""

from email.utils import parsedate_to_datetime

from ..util import iso_utc
from . import (
    MalformedPayload,
    NotConfiguredWebhook,
    Receiver,
    SignatureInvalid,
    WebhookEvent,
    json_object,
    register,
    same,
)

SECRET = "ASSIST_FRESHDESK_WEBHOOK_SECRET"
HEADER = "x-assist-webhook-secret"
CLOSED_STATUSES = {"resolved", "closed"}


@register("freshdesk")
class FreshdeskReceiver(Receiver):
    """Check Freshdesk's shared-secret header and turn our template into ticket events."""

    name = "freshdesk"

    def verify(self, request):
        """Raise SignatureInvalid unless the shared-secret header equals our secret."""
        secrets = (self.settings.get(SECRET) or "").replace(",", " ").split()
        if not secrets:
            raise NotConfiguredWebhook(f"set {SECRET} and send it in the {HEADER} header", self.name)
        given = request.headers.get(HEADER)
        if not any([same(secret, given) for secret in secrets]):
            raise SignatureInvalid(f"the {HEADER} header is missing or wrong", self.name)

    def parse(self, request):
        """One event per delivery: a ticket event for ``ticket.*``, "other" for any other ``event``."""
        data = json_object(request.body, "Freshdesk")
        event_name, ticket = _filled(data.get("event")), data.get("ticket")
        if not event_name:
            raise MalformedPayload("the Freshdesk payload has no event", self.name)
        if not isinstance(ticket, dict) or not _filled(ticket.get("id")):
            raise MalformedPayload("the Freshdesk payload has no ticket.id", self.name)
        ticket_id, updated = _filled(ticket["id"]), _filled(ticket.get("updated_at"))
        event = WebhookEvent(key=f"{ticket_id}:{updated or '-'}:{event_name}",
                             occurred_at=_freshdesk_time(updated) or iso_utc(request.now, epoch="s"),
                             type=event_name, object_id=ticket_id, customer=_customer(data), payload=data)
        if event_name.startswith("ticket."):
            event.object_type = "ticket"
            event.deleted = event_name == "ticket.deleted"
            event.changes = {} if event.deleted else _ticket_changes(ticket, updated, event.customer)
        return [event]


def _ticket_changes(ticket, updated, customer):
    """Our ticket fields from the template's ticket object."""
    status = (_filled(ticket.get("status")) or "").lower()
    changes = {"subject": _filled(ticket.get("subject")), "status": status or None,
               "priority": (_filled(ticket.get("priority")) or "").lower() or None,
               "created_at": _freshdesk_time(_filled(ticket.get("created_at"))),
               "updated_at": _freshdesk_time(updated), "customer_source_id": customer.get("source_id")}
    if status:
        changes["is_open"] = status not in CLOSED_STATUSES
    return {k: v for k, v in changes.items() if v is not None}


def _customer(data):
    """What the template says about the requester: id, name, email, phone (or mobile), company."""
    contact = data.get("contact") if isinstance(data.get("contact"), dict) else {}
    company = data.get("company")
    customer = {"source_id": _filled(contact.get("id")), "name": _filled(contact.get("name")),
                "email": _filled(contact.get("email")),
                "phone": _filled(contact.get("phone")) or _filled(contact.get("mobile")),
                "company": _filled(company.get("name") if isinstance(company, dict) else company),
                "tier": _filled(contact.get("tier"))}
    return {k: v for k, v in customer.items() if v}


def _freshdesk_time(value):
    """ISO UTC from an ISO 8601 or RFC 2822 time; None for anything else (the format is unconfirmed)."""
    if not value:
        return None
    found = iso_utc(value)
    if found:
        return found
    try:
        return iso_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        return None



def _filled(value):
    """A template value as text, or None when empty or when Freshdesk left the placeholder unrendered."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return None if not text or (text.startswith("{{") and text.endswith("}}")) else text
