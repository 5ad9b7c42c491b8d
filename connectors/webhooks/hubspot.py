"""HubSpot webhooks: the v3, v2 and v1 signatures, and the JSON array of CRM events.

Signatures (developers.hubspot.com/docs/api/webhooks/validating-requests):

- v3, when ``X-HubSpot-Signature-v3`` is present: base64 HMAC-SHA256 keyed with
  the app's client secret over method + URI + raw body +
  ``X-HubSpot-Request-Timestamp`` (epoch ms).  A timestamp more than 5 minutes
  from now is a replay.
- otherwise ``X-HubSpot-Signature-Version`` says v1 (sha256 hex of secret +
  body) or v2 (sha256 hex of secret + method + URI + body).  Neither signs a
  time, so a captured v1/v2 request verifies forever.  What makes a replay
  harmless is idempotency: an event's key is the same on every delivery and the
  app stores each key once.

The body is a JSON array of events (HubSpot sends up to 100).  Delivery is at
least once and unordered, and ``eventId`` alone is not unique, so an event's key
is subscriptionType + objectId + occurredAt + eventId (never ``attemptNumber``).
A merge becomes one event per absorbed contact, keyed by the merge's key plus
that contact's id.
"""

import hashlib
import json
import re
from dataclasses import replace

from ..hubspot import DEFAULT_STAGE_LABELS
from ..util import iso_utc
from . import (
    MalformedPayload,
    NotConfiguredWebhook,
    Receiver,
    SignatureInvalid,
    WebhookEvent,
    b64,
    check_fresh,
    hmac_sha256,
    register,
    same,
)

SECRET = "ASSIST_HUBSPOT_CLIENT_SECRET"
MAX_EVENTS = 1000  # HubSpot sends up to 100; a refused batch is retried for 24 hours, so leave room
# v3 signs the URI with only these escapes decoded (HubSpot's validating-requests doc).
V3_DECODED = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'", "%28": "(",
              "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}
V3_ESCAPES = re.compile("|".join(V3_DECODED), re.IGNORECASE)
GENERIC_OBJECTS = {"0-1": "contact", "0-5": "ticket"}  # objectTypeId of generic ``object.*`` subscriptions
# HubSpot property -> our field.  Names are split so the applier can compose them.
CONTACT_FIELDS = {"firstname": "first_name", "lastname": "last_name", "email": "email", "phone": "phone",
                  "mobilephone": "phone", "company": "company", "lifecyclestage": "tier", "hs_lead_status": "tier"}
CUSTOMER_KEYS = ("email", "phone", "company", "tier")  # fields that also say who the customer is
TICKET_FIELDS = {"subject": "subject", "content": "description", "hs_pipeline_stage": "status",
                 "hs_ticket_priority": "priority", "createdate": "created_at", "hs_lastmodifieddate": "updated_at"}
NEEDS_OBJECT_ID = {"creation", "propertyChange", "deletion", "privacyDeletion", "restore"}


@register("hubspot")
class HubSpotReceiver(Receiver):
    """Verify HubSpot's signatures and turn its event arrays into WebhookEvents."""

    name = "hubspot"

    def __init__(self, settings):
        super().__init__(settings)
        stages = (settings.get("ASSIST_HUBSPOT_CLOSED_STAGES") or "").split(",")
        self.closed_stages = {s.strip() for s in stages if s.strip()} or {"4"}

    # -- signatures ---------------------------------------------------------
    def verify(self, request):
        """Raise SignatureInvalid unless a v3 (fresh), v2 or v1 signature matches."""
        secret = (self.settings.get(SECRET) or "").strip()
        if not secret:
            raise NotConfiguredWebhook(f"set {SECRET} to receive HubSpot webhooks", self.name)
        if request.headers.get("x-hubspot-signature-v3") is not None:
            return self._verify_v3(secret, request)
        version = (request.headers.get("x-hubspot-signature-version") or "").strip().lower()
        if version == "v1":
            signed = secret.encode() + request.body
        elif version == "v2":
            signed = secret.encode() + request.method.upper().encode() + request.url.encode() + request.body
        else:
            raise SignatureInvalid("no HubSpot signature", self.name)
        given = (request.headers.get("x-hubspot-signature") or "").lower()
        if not same(hashlib.sha256(signed).hexdigest(), given):
            raise SignatureInvalid(f"the HubSpot {version} signature does not match", self.name)

    def _verify_v3(self, secret, request):
        timestamp = (request.headers.get("x-hubspot-request-timestamp") or "").strip()
        if not timestamp.isdigit():
            raise SignatureInvalid("the HubSpot request timestamp is missing", self.name)
        check_fresh(int(timestamp) / 1000, request.now)
        given, prefix = request.headers["x-hubspot-signature-v3"], request.method.upper()
        matched = False
        for uri in v3_uris(request.url):  # every candidate is checked, so timing says nothing
            signed = (prefix + uri).encode() + request.body + timestamp.encode()
            matched |= same(b64(hmac_sha256(secret, signed)), given)
        if not matched:
            raise SignatureInvalid("the HubSpot v3 signature does not match", self.name)

    # -- events -------------------------------------------------------------
    def parse(self, request):
        """The events of a JSON array body, in the order sent."""
        try:
            body = json.loads(request.body)
        except ValueError as e:  # includes UnicodeDecodeError
            raise MalformedPayload("the body is not JSON", self.name) from e
        if not isinstance(body, list):
            raise MalformedPayload("the body must be a JSON array of events", self.name)
        if len(body) > MAX_EVENTS:
            raise MalformedPayload(f"more than {MAX_EVENTS} events in one request", self.name)
        return [event for item in body for event in self._events(item)]

    def _events(self, item):
        """Usually one event; a merge gives one per absorbed contact (see ``_merged``)."""
        event = self._event(item)
        return self._merged(event, item) if event.changes.get("merged_into") else [event]

    def _event(self, item):
        if not isinstance(item, dict):
            raise MalformedPayload("every event must be a JSON object", self.name)
        kind = item.get("subscriptionType") or item.get("eventType")
        occurred, event_id = _epoch_ms(item.get("occurredAt")), _id(item.get("eventId"))
        object_id = _id(item.get("objectId"))
        occurred_at = iso_utc(occurred, epoch="ms") if occurred is not None else None
        if not isinstance(kind, str) or not event_id or not occurred_at:
            raise MalformedPayload("an event lacks subscriptionType, eventId or occurredAt", self.name)
        event = WebhookEvent(key=f"{kind}:{object_id or ''}:{occurred}:{event_id}", occurred_at=occurred_at,
                             type=kind, object_id=object_id, payload=item)
        obj, _, action = kind.partition(".")
        obj = GENERIC_OBJECTS.get(str(item.get("objectTypeId")), obj) if obj == "object" else obj
        if obj in ("contact", "ticket") and action in NEEDS_OBJECT_ID and not object_id:
            raise MalformedPayload(f"a {kind} event lacks objectId", self.name)
        if action == "associationChange":
            self._association(event, item)
        elif obj == "contact":
            self._contact(event, item, action)
        elif obj == "ticket":
            self._ticket(event, item, action)
        return event

    def _contact(self, event, item, action):
        """creation, propertyChange, deletion, privacyDeletion, merge, restore; others stay "other"."""
        if action not in NEEDS_OBJECT_ID and action != "merge":
            return
        event.object_type, event.customer = "customer", {"source_id": event.object_id}
        event.deleted = action in ("deletion", "privacyDeletion")
        if action == "propertyChange":
            field = CONTACT_FIELDS.get(item.get("propertyName"))
            if field:
                event.changes[field] = _text(item.get("propertyValue"))
                if field in CUSTOMER_KEYS and event.changes[field]:
                    event.customer[field] = event.changes[field]
        elif action == "merge":
            survivor = _id(item.get("newObjectId")) or _id(item.get("primaryObjectId"))
            if not survivor:
                raise MalformedPayload("a merge event lacks primaryObjectId", self.name)
            event.changes = {"merged_into": survivor}

    def _merged(self, event, item):
        """One event per absorbed contact: ``object_id`` is the absorbed id, ``merged_into`` the survivor.

        The survivor is ``newObjectId`` when the merge made a new record (then the primary is absorbed
        too), else ``primaryObjectId``; the absorbed ids are ``mergedObjectIds``.  Each key is the
        merge's key plus the absorbed id, so a replay gives the same keys.
        """
        survivor = event.changes["merged_into"]
        merged = item.get("mergedObjectIds") if isinstance(item.get("mergedObjectIds"), list) else []
        absorbed = [_id(i) for i in [*merged, item.get("primaryObjectId"), event.object_id]]
        absorbed = list(dict.fromkeys(i for i in absorbed if i and i != survivor))
        if not absorbed:  # nothing left to fold in
            return [replace(event, object_id=survivor, customer={"source_id": survivor})]
        return [replace(event, key=f"{event.key}:{old}", object_id=old, customer={"source_id": survivor},
                        changes=dict(event.changes)) for old in absorbed]

    def _ticket(self, event, item, action):
        """creation, propertyChange, deletion, restore; others stay "other"."""
        if action not in NEEDS_OBJECT_ID:
            return
        event.object_type, event.deleted = "ticket", action == "deletion"
        field, value = TICKET_FIELDS.get(item.get("propertyName")), _text(item.get("propertyValue"))
        if action != "propertyChange" or not field:
            return
        if field == "status":
            event.changes["status"] = DEFAULT_STAGE_LABELS.get(value, value)
            if value is not None:
                event.changes["is_open"] = value not in self.closed_stages
        elif field == "priority":
            event.changes["priority"] = value.lower() if value else None
        elif field in ("created_at", "updated_at"):
            event.changes[field] = iso_utc(value, epoch="ms")
        else:
            event.changes[field] = value

    def _association(self, event, item):
        """A contact<->ticket link becomes a ticket event naming its customer.

        A removal changes nothing: the ticket keeps its last owner until another contact is linked
        (that link arrives as its own event) or a sync says otherwise.  The payload keeps the details.
        """
        kind = str(item.get("associationType") or "").upper()
        ends = _id(item.get("fromObjectId")), _id(item.get("toObjectId"))
        if kind not in ("CONTACT_TO_TICKET", "TICKET_TO_CONTACT"):
            return
        contact, ticket = ends if kind == "CONTACT_TO_TICKET" else ends[::-1]
        if not contact or not ticket:
            raise MalformedPayload("an association event lacks fromObjectId or toObjectId", self.name)
        event.object_type, event.object_id = "ticket", ticket
        if item.get("associationRemoved") is not True:
            event.customer, event.changes = {"source_id": contact}, {"customer_source_id": contact}


def v3_uris(url):
    """The URIs a v3 signature may cover: HubSpot's documented decoding, then the URL verbatim (Python SDK)."""
    decoded = V3_ESCAPES.sub(lambda m: V3_DECODED[m.group(0).upper()], url)
    return [decoded] if decoded == url else [decoded, url]


def _epoch_ms(value):
    """``occurredAt`` as an int of epoch milliseconds, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _id(value):
    """A HubSpot id (number or string) as text; None when missing or not a scalar."""
    if value is None or isinstance(value, (bool, dict, list, float)) or value == "":
        return None
    return str(value)


def _text(value):
    """A property value as text; an empty string (a cleared property) is None."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)
