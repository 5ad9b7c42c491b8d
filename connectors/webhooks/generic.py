"""Generic webhooks: our own signed format, for any system without a receiver of its own.

The sender signs ``X-Assist-Signature: sha256=<hex HMAC-SHA256(ASSIST_WEBHOOK_SECRET,
"{timestamp}.{raw body}")>`` with ``X-Assist-Timestamp`` in unix seconds; we
refuse timestamps more than five minutes away.  The body is one event object
or a JSON array of up to 100::

    {"id": "evt-1", "type": "customer.updated", "occurred_at": "2026-11-02T09:15:00Z",
     "customer": {"id": "42", "email": "...", "phone": "...", "name": "...", "company": "...", "tier": "..."},
     "ticket": {"id": "T-7", "subject": "...", "status": "open", ...},
     "activity": {"id": "A-3", "kind": "note", "summary": "...", "at": "...", ...}}

``type`` is ``<object>.<action>`` with object customer, ticket or activity;
action ``deleted`` deletes, ``customer.merged`` merges into
``customer.merged_into``; any other object type is stored as "other".  The
key is ``id``.  See docs/webhooks/generic.md.
"""

import json
import re

from ..util import iso_utc
from . import (
    MalformedPayload,
    NotConfiguredWebhook,
    Receiver,
    SignatureInvalid,
    WebhookEvent,
    check_fresh,
    hmac_sha256,
    register,
    same,
)

SECRET = "ASSIST_WEBHOOK_SECRET"
SIGNATURE, TIMESTAMP = "x-assist-signature", "x-assist-timestamp"
EPOCH = re.compile(r"\d{1,12}")
MAX_EVENTS = 100
CUSTOMER_FIELDS = ("name", "email", "phone", "company", "tier")
# Per object: (text fields, time fields, yes/no fields), all in our own names.
FIELDS = {
    "ticket": (("subject", "description", "status", "priority"), ("created_at", "updated_at"), ("is_open",)),
    "activity": (("kind", "summary", "ticket_id"), ("at", "due_at"), ("done",)),
}


@register("generic")
class GenericReceiver(Receiver):
    """Verify our own signature and read our own event format."""

    name = "generic"

    def verify(self, request):
        """Raise SignatureInvalid unless ``"{timestamp}.{body}"`` is signed with our secret, within 5 minutes."""
        secrets = (self.settings.get(SECRET) or "").replace(",", " ").split()
        if not secrets:
            raise NotConfiguredWebhook(f"set {SECRET} to the secret your sender signs with", self.name)
        signature, timestamp = request.headers.get(SIGNATURE), (request.headers.get(TIMESTAMP) or "").strip()
        if not signature or not timestamp:
            raise SignatureInvalid(f"the {SIGNATURE} or {TIMESTAMP} header is missing", self.name)
        signed, given = timestamp.encode() + b"." + request.body, signature.strip().lower()
        if not any([same("sha256=" + hmac_sha256(secret, signed).hex(), given) for secret in secrets]):
            raise SignatureInvalid("the signature does not match", self.name)
        check_fresh(int(timestamp) if EPOCH.fullmatch(timestamp) else None, request.now)

    def parse(self, request):
        """The events in the body: one object, or an array of up to 100."""
        try:
            data = json.loads(request.body)
        except (ValueError, RecursionError) as e:
            raise MalformedPayload("the body is not JSON", self.name) from e
        items = data if isinstance(data, list) else [data]
        if len(items) > MAX_EVENTS:
            raise MalformedPayload(f"send at most {MAX_EVENTS} events per request", self.name)
        default_time = iso_utc((request.headers.get(TIMESTAMP) or "").strip(), epoch="s") or \
            iso_utc(request.now, epoch="s")
        return [_event(item, n, default_time) for n, item in enumerate(items)]


def _event(item, n, default_time):
    """One WebhookEvent from one event object; ``n`` names it in error messages."""
    if not isinstance(item, dict):
        raise _bad(n, "is not a JSON object")
    key, kind = _text(item.get("id"), n, "id"), _text(item.get("type"), n, "type")
    if not key or not kind:
        raise _bad(n, "needs an id and a type")
    occurred = _time(item.get("occurred_at"), n, "occurred_at") or default_time
    event = WebhookEvent(key=key, occurred_at=occurred, type=kind, customer=_customer(item.get("customer"), n),
                         payload=item)
    what, _, action = kind.partition(".")
    if what == "customer":
        _customer_event(event, item, action, n)
    elif what in FIELDS:
        _record_event(event, item, what, n)
    event.deleted = event.object_type != "other" and action == "deleted"
    if event.deleted:
        event.changes = {}
    return event


def _customer_event(event, item, action, n):
    if not event.customer.get("source_id"):
        raise _bad(n, "needs a customer with an id, email or phone")
    event.object_type, event.object_id = "customer", event.customer["source_id"]
    event.changes = {k: v for k, v in event.customer.items() if k in CUSTOMER_FIELDS}
    if action == "merged":
        into = _text(item["customer"].get("merged_into"), n, "customer.merged_into")
        if not into:
            raise _bad(n, "needs customer.merged_into")
        event.changes = {"merged_into": into}


def _record_event(event, item, what, n):
    """A ticket or activity event: the object's id and the fields sent."""
    record = item.get(what)
    record_id = _text(record.get("id"), n, f"{what}.id") if isinstance(record, dict) else None
    if not record_id:
        raise _bad(n, f"needs a {what} object with an id")
    event.object_type, event.object_id = what, record_id
    event.changes = _changes(what, record, n)
    if what == "ticket" and event.customer.get("source_id"):
        event.changes["customer_source_id"] = event.customer["source_id"]


def _customer(value, n):
    """Our customer fields; ``source_id`` is the id, else the email, else the phone."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(n, "has a customer that is not an object")
    found = {field: _text(value.get(field), n, f"customer.{field}") for field in ("id", *CUSTOMER_FIELDS)}
    found["source_id"] = found.pop("id") or found["email"] or found["phone"]
    return {k: v for k, v in found.items() if v}


def _changes(what, record, n):
    """The fields the sender included (a missing field is left as it is)."""
    texts, times, flags = FIELDS[what]
    changes = {f: _text(record[f], n, f"{what}.{f}") for f in texts if f in record}
    changes.update({f: _time(record[f], n, f"{what}.{f}") for f in times if f in record})
    for f in flags:
        if f in record:
            if record[f] is not None and not isinstance(record[f], bool):
                raise _bad(n, f"has {what}.{f} that is not true or false")
            changes[f] = record[f]
    return changes


def _text(value, n, name):
    """A string or number as trimmed text (None when empty); anything else is malformed."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _bad(n, f"has {name} that is not text")
    return str(value).strip() or None


def _time(value, n, name):
    """An ISO 8601 time as ISO UTC (None when absent); anything unparsable is malformed."""
    if value in (None, ""):
        return None
    found = iso_utc(value) if isinstance(value, str) else None
    if not found:
        raise _bad(n, f"has {name} that is not an ISO 8601 time")
    return found


def _bad(n, problem):
    return MalformedPayload(f"event {n} {problem}", "generic")
