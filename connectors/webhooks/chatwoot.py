"""Chatwoot webhooks: contacts, conversations and messages.

Chatwoot (releases with PR #13573) signs ``X-Chatwoot-Signature: sha256=<hex
HMAC-SHA256(secret, "{timestamp}.{raw body}")>`` with ``X-Chatwoot-Timestamp``
in unix seconds; we refuse timestamps more than five minutes away.  Webhooks
without a secret, and every webhook from older releases, are unsigned and
refused.  ``X-Chatwoot-Delivery`` stays the same across retries of one
delivery and is the idempotency key.

Payloads are the object's ``webhook_data`` plus ``"event"``: contacts at the top
level, conversations at the top level (their ``id`` is the display id the API
uses), messages with their ``conversation`` inside.
"""

import hashlib
import re

from ..util import iso_utc, summary
from . import (
    MalformedPayload,
    NotConfiguredWebhook,
    Receiver,
    SignatureInvalid,
    WebhookEvent,
    as_dict,
    as_text,
    check_fresh,
    hmac_sha256,
    json_object,
    register,
    same,
)

SECRET = "ASSIST_CHATWOOT_WEBHOOK_SECRET"
SIGNATURE, TIMESTAMP, DELIVERY = "x-chatwoot-signature", "x-chatwoot-timestamp", "x-chatwoot-delivery"
EPOCH = re.compile(r"\d{1,12}")
CONTACT_EVENTS = {"contact_created", "contact_updated", "contact_deleted"}
CONVERSATION_EVENTS = {"conversation_created", "conversation_status_changed", "conversation_updated",
                       "conversation_resolved", "conversation_opened"}  # the last two: older releases
MESSAGE_EVENTS = {"message_created", "message_updated"}
OPEN_STATUSES = {"open", "pending", "snoozed"}
MESSAGE_TYPES = {0: "incoming", 1: "outgoing", 2: "activity", 3: "template"}


@register("chatwoot")
class ChatwootReceiver(Receiver):
    """Verify Chatwoot's signature and turn its payloads into events."""

    name = "chatwoot"

    def verify(self, request):
        """Raise SignatureInvalid unless ``"{timestamp}.{body}"`` is signed with our secret, within 5 minutes."""
        secrets = (self.settings.get(SECRET) or "").replace(",", " ").split()
        if not secrets:
            raise NotConfiguredWebhook(f"set {SECRET} to the webhook's secret", self.name)
        signature, timestamp = request.headers.get(SIGNATURE), (request.headers.get(TIMESTAMP) or "").strip()
        if not signature or not timestamp:
            raise SignatureInvalid("the Chatwoot signature or timestamp is missing (unsigned webhook?)", self.name)
        signed, given = timestamp.encode() + b"." + request.body, signature.strip().lower()
        if not any([same("sha256=" + hmac_sha256(secret, signed).hex(), given) for secret in secrets]):
            raise SignatureInvalid("the Chatwoot signature does not match", self.name)
        check_fresh(int(timestamp) if EPOCH.fullmatch(timestamp) else None, request.now)

    def parse(self, request):
        """One event per delivery, keyed by ``X-Chatwoot-Delivery``."""
        data = json_object(request.body, "Chatwoot")
        name = data.get("event")
        if not isinstance(name, str) or not name:
            raise MalformedPayload("the Chatwoot payload has no event", self.name)
        # Signed deliveries always carry a delivery id; the body hash is a stable stand-in.
        key = request.headers.get(DELIVERY) or "sha256:" + hashlib.sha256(request.body).hexdigest()
        event = WebhookEvent(key=key, occurred_at=_signed_time(request), type=name,
                             object_id=as_text(data.get("id")), payload=data)
        if name in CONTACT_EVENTS | CONVERSATION_EVENTS | MESSAGE_EVENTS and not event.object_id:
            raise MalformedPayload(f"the Chatwoot {name} payload has no id", self.name)
        if name in CONTACT_EVENTS:
            _contact(event, data)
        elif name in CONVERSATION_EVENTS:
            _conversation(event, data)
        elif name in MESSAGE_EVENTS:
            _message(event, data)
        return [event]


def _contact(event, data):
    event.object_type = "customer"
    event.deleted = event.type == "contact_deleted"
    event.customer = _customer(data)
    event.changes = {} if event.deleted else {k: v for k, v in event.customer.items() if k != "source_id"}


def _conversation(event, data):
    """A conversation as a ticket owned by its contact (``meta.sender``)."""
    event.object_type = "ticket"
    event.customer = _customer(as_dict(as_dict(data.get("meta")).get("sender")))
    status = as_text(data.get("status"))
    messages = [m for m in data.get("messages") or [] if isinstance(m, dict)]
    text = next((as_text(m.get("content")) for m in reversed(messages) if as_text(m.get("content"))), None)
    subject = as_text(as_dict(data.get("additional_attributes")).get("mail_subject")) or \
        (summary(text.splitlines()[0], 120) if text else None)
    updated = _epoch_iso(data.get("updated_at")) or _epoch_iso(data.get("last_activity_at")) or \
        _epoch_iso(data.get("timestamp"))
    changes = {"subject": subject, "description": text, "status": status, "priority": as_text(data.get("priority")),
               "created_at": _epoch_iso(data.get("created_at")), "updated_at": updated,
               "customer_source_id": event.customer.get("source_id")}
    if status:
        changes["is_open"] = status in OPEN_STATUSES
    event.changes = {k: v for k, v in changes.items() if v is not None}
    event.occurred_at = updated or event.occurred_at


def _message(event, data):
    """A message as an activity on its conversation: private notes are notes, activity messages are "other"."""
    kind = data.get("message_type")
    kind = MESSAGE_TYPES.get(kind, kind) if isinstance(kind, int) else as_text(kind)
    if kind == "activity":
        return  # "Conversation was resolved by ...": nothing the agent needs
    conversation = as_dict(data.get("conversation"))
    sender = as_dict(data.get("sender"))
    contact = as_dict(as_dict(conversation.get("meta")).get("sender"))
    if not contact and kind == "incoming" and sender.get("type") == "contact":
        contact = sender
    event.object_type = "activity"
    event.customer = _customer(contact)
    at = iso_utc(data.get("created_at"), epoch="s")
    private = data.get("private") is True
    event.changes = {k: v for k, v in {
        "kind": "note" if private else ("message" if kind == "incoming" else "comment"),
        "summary": summary(as_text(data.get("content"))), "at": at,
        "ticket_id": as_text(conversation.get("id")) or as_text(data.get("conversation_id")),
    }.items() if v is not None}
    event.occurred_at = at if event.type == "message_created" and at else event.occurred_at


def _customer(contact):
    """Our customer fields from a Chatwoot contact (top level, ``meta.sender`` or a message sender)."""
    attributes, custom = as_dict(contact.get("additional_attributes")), as_dict(contact.get("custom_attributes"))
    found = {"source_id": as_text(contact.get("id")), "name": as_text(contact.get("name")),
             "email": as_text(contact.get("email")), "phone": as_text(contact.get("phone_number")),
             "company": as_text(attributes.get("company_name")), "tier": as_text(custom.get("tier"))}
    return {k: v for k, v in found.items() if v}


def _signed_time(request):
    """The signed delivery time: the event time when the object carries none."""
    timestamp = (request.headers.get(TIMESTAMP) or "").strip()
    return iso_utc(timestamp, epoch="s") or iso_utc(request.now, epoch="s")


def _epoch_iso(value):
    """ISO UTC from Chatwoot's unix seconds (int or float) or an ISO string; None for 0 or missing."""
    return None if isinstance(value, bool) else iso_utc(value, epoch="s")


