"""Zendesk webhooks: event subscriptions (users, tickets) and our documented trigger template.

Zendesk signs ``base64(HMAC-SHA256(secret, timestamp + body))`` in
``x-zendesk-webhook-signature``, with the raw ``x-zendesk-webhook-signature-timestamp``
(ISO 8601) as the timestamp.  Zendesk documents no replay window, so we apply
our own five minutes.  Two payload shapes arrive:

- event subscriptions: ``{"type": "zen:event-type:user.created", "id", "time",
  "subject", "detail": {...strings...}, "event": {...}}``;
- our trigger template (docs/webhooks/zendesk.md), marked ``"assist_template": 1``.

Anything else is stored as an "other" event, keyed by the invocation id.
"""


from ..util import iso_utc, parse_utc, summary
from . import (
    MalformedPayload,
    NotConfiguredWebhook,
    Receiver,
    SignatureInvalid,
    WebhookEvent,
    as_dict,
    as_text,
    b64,
    check_fresh,
    hmac_sha256,
    json_object,
    register,
    same,
)

SECRET = "ASSIST_ZENDESK_WEBHOOK_SECRET"
SIGNATURE = "x-zendesk-webhook-signature"
TIMESTAMP = "x-zendesk-webhook-signature-timestamp"
INVOCATION = "x-zendesk-webhook-invocation-id"
EVENT_PREFIX = "zen:event-type:"
OPEN_STATUSES = {"new", "open", "pending", "hold"}
CLOSED_STATUSES = {"solved", "closed"}
DELETED_TICKET_TYPES = {"ticket.soft_deleted", "ticket.permanently_deleted"}
# Which ticket field a "<field>_changed" event carries in event.current.
CHANGED_FIELDS = {"ticket.status_changed": "status", "ticket.priority_changed": "priority",
                  "ticket.subject_changed": "subject", "ticket.description_changed": "description"}
STAFF_ROLES = {"agent", "admin"}


@register("zendesk")
class ZendeskReceiver(Receiver):
    """Verify Zendesk's signature and turn its payloads into events."""

    name = "zendesk"

    def verify(self, request):
        """Raise SignatureInvalid unless the body and timestamp are signed with our secret, within 5 minutes."""
        secrets = _secrets(self.settings)
        signature, timestamp = request.headers.get(SIGNATURE), request.headers.get(TIMESTAMP)
        if not signature or not timestamp:
            raise SignatureInvalid("the Zendesk signature or its timestamp is missing", self.name)
        signed = timestamp.encode() + request.body
        if not any([same(b64(hmac_sha256(secret, signed)), signature) for secret in secrets]):
            raise SignatureInvalid("the Zendesk signature does not match", self.name)
        when = parse_utc(timestamp)
        check_fresh(when.timestamp() if when else None, request.now)

    def parse(self, request):
        """One event per delivery: an event-subscription event, our template, or "other"."""
        data = json_object(request.body, "Zendesk")
        if "assist_template" in data:
            return [self._template_event(data, request)]
        kind = data.get("type")
        if isinstance(kind, str) and kind.startswith(EVENT_PREFIX):
            return [self._subscription_event(data, request)]
        key = request.headers.get(INVOCATION)
        if not key:
            raise MalformedPayload("a Zendesk payload without an event type needs an invocation id", self.name)
        return [WebhookEvent(key=key, occurred_at=_received(request), type="zendesk.trigger", payload=data)]

    # -- event subscriptions ------------------------------------------------------
    def _subscription_event(self, data, request):
        kind = data["type"][len(EVENT_PREFIX):]
        key = as_text(data.get("id")) or request.headers.get(INVOCATION)
        if not key:
            raise MalformedPayload("the Zendesk event has no id", self.name)
        detail, change = as_dict(data.get("detail")), as_dict(data.get("event"))
        event = WebhookEvent(key=key, occurred_at=iso_utc(data.get("time")) or _received(request), type=kind,
                             payload=data)
        domain = kind.split(".", 1)[0]
        if domain == "user":
            self._user(event, kind, detail, change, data)
        elif domain == "ticket":
            self._ticket(event, kind, detail, change, data)
        return event

    def _user(self, event, kind, detail, change, data):
        user_id = as_text(detail.get("id")) or _subject_id(data, "user")
        if not user_id:
            raise MalformedPayload("the Zendesk user event has no user id", self.name)
        event.object_id = user_id
        if (detail.get("role") or "").lower() in STAFF_ROLES:
            return  # agents and admins are not customers: stays "other"
        event.object_type = "customer"
        changes = {}
        if "email" in detail:
            changes["email"] = as_text(detail["email"])
        if kind == "user.name_changed" and "current" in change:
            changes["name"] = as_text(change["current"])
        event.deleted = kind == "user.deleted" or (kind == "user.active_changed" and change.get("current") is False)
        event.changes = {} if event.deleted else changes
        event.customer = {"source_id": user_id, **changes}

    def _ticket(self, event, kind, detail, change, data):
        ticket_id = as_text(detail.get("id")) or _subject_id(data, "ticket")
        if not ticket_id:
            raise MalformedPayload("the Zendesk ticket event has no ticket id", self.name)
        requester = as_text(detail.get("requester_id"))
        event.customer = {"source_id": requester} if requester else {}
        comment = as_dict(change.get("comment"))
        if kind == "ticket.comment_added" and as_text(comment.get("id")):
            public = comment.get("is_public", True) is not False
            event.object_type, event.object_id = "activity", as_text(comment["id"])
            event.changes = {"kind": "comment" if public else "note", "summary": summary(as_text(comment.get("body"))),
                             "at": event.occurred_at, "ticket_id": ticket_id}
            return
        event.object_type, event.object_id = "ticket", ticket_id
        event.deleted = kind in DELETED_TICKET_TYPES
        if event.deleted:
            return
        fields = {f: as_text(detail[f]) for f in ("subject", "description", "status", "priority") if f in detail}
        field = CHANGED_FIELDS.get(kind)
        if field and isinstance(change.get("current"), (str, int, float)):
            fields[field] = as_text(change["current"])
        fields.update({f: iso_utc(detail[f]) for f in ("created_at", "updated_at") if detail.get(f)})
        if requester:
            fields["customer_source_id"] = requester
        event.changes = _with_status(fields)

    # -- our trigger template ---------------------------------------------------------
    def _template_event(self, data, request):
        ticket, requester = as_dict(data.get("ticket")), as_dict(data.get("requester"))
        ticket_id = _filled(ticket.get("id"))
        if not ticket_id:
            raise MalformedPayload("the assist template has no ticket.id", self.name)
        updated = _filled(ticket.get("updated_at"))
        key = f"{request.headers.get(INVOCATION) or '-'}:{ticket_id}:{updated or '-'}"
        customer = {"source_id": _filled(requester.get("id")), "email": _filled(requester.get("email")),
                    "name": _filled(requester.get("name")), "phone": _filled(requester.get("phone")),
                    "company": _filled(requester.get("organization")), "tier": _filled(requester.get("tier"))}
        customer = {k: v for k, v in customer.items() if v}
        fields = {"subject": _filled(ticket.get("subject")), "status": _filled(ticket.get("status")),
                  "priority": _filled(ticket.get("priority")), "created_at": iso_utc(_filled(ticket.get("created_at"))),
                  "updated_at": iso_utc(updated), "customer_source_id": customer.get("source_id")}
        return WebhookEvent(key=key, occurred_at=iso_utc(updated) or _received(request), type="ticket.trigger",
                            object_type="ticket", object_id=ticket_id, customer=customer,
                            changes=_with_status({k: v for k, v in fields.items() if v}), payload=data)


def _secrets(settings):
    """The signing secrets (one per Zendesk webhook), separated by commas or spaces."""
    secrets = (settings.get(SECRET) or "").replace(",", " ").split()
    if not secrets:
        raise NotConfiguredWebhook(f"set {SECRET} to the webhook's signing secret", "zendesk")
    return secrets


def _with_status(fields):
    """Ticket fields with status and priority in lower case and ``is_open`` when the status is a known one."""
    status = (fields.get("status") or "").strip().lower().replace("on-hold", "hold").replace("on hold", "hold")
    if status:
        fields["status"] = status
        if status in OPEN_STATUSES | CLOSED_STATUSES:
            fields["is_open"] = status in OPEN_STATUSES
    if fields.get("priority"):
        fields["priority"] = fields["priority"].strip().lower()
    return fields





def _filled(value):
    """A template value, or None when empty or when Zendesk left the placeholder unrendered."""
    text = as_text(value)
    return None if not text or (text.startswith("{{") and text.endswith("}}")) else text


def _subject_id(data, kind):
    """The id in a subject such as ``zen:user:6596848315901``."""
    prefix = f"zen:{kind}:"
    subject = data.get("subject")
    if isinstance(subject, str) and subject.startswith(prefix):
        return subject[len(prefix):] or None
    return None


def _received(request):
    """When there is no time in the payload: the signed timestamp, else the time we received it."""
    return iso_utc(request.headers.get(TIMESTAMP)) or iso_utc(request.now, epoch="s")
