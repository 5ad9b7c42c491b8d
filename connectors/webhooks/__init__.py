"""Webhook receivers: verify what each vendor signs, and parse its payload into events.

One module per vendor registers a Receiver here, the same way connectors
register.  Receivers are pure: they never touch the database; the app stores
events durably and applies them (see connectors/inbox.py).
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field

from ..base import ConnectorError

RECEIVERS = {}
BUILTIN = ("hubspot", "zendesk", "salesforce", "freshdesk", "chatwoot", "generic")
MAX_AGE_SECONDS = 300  # signed timestamps older than 5 minutes are replays


class WebhookError(ConnectorError):
    """Base error for webhook requests; ``status`` is what we answer."""

    status = 400
    code = "webhook_error"


class SignatureInvalid(WebhookError):
    """Missing, wrong or stale signature: answer 401 and store nothing."""

    status = 401
    code = "signature_invalid"


class MalformedPayload(WebhookError):
    """The body cannot be parsed as the vendor's payload: answer 400 and store nothing."""

    status = 400
    code = "malformed_payload"


class NotConfiguredWebhook(WebhookError):
    """We hold no secret for this vendor, so we cannot verify anything it sends."""

    status = 503
    code = "webhook_not_configured"


@dataclass
class WebhookRequest:
    """The parts of an HTTP request a receiver may look at."""

    method: str
    url: str  # the full URL as the vendor called it (scheme, host, path, query)
    headers: dict  # lower-case names
    body: bytes
    now: float  # epoch seconds


@dataclass
class WebhookEvent:
    """One change a vendor told us about, in our own terms.

    ``key`` is the vendor's idempotency key (delivery or event id), unique per
    change; ``object_type`` is customer, ticket, activity or other;
    ``customer`` holds what the payload says about the customer (source id,
    email, phone, name, company, tier); ``changes`` maps our field names to new
    values for the object; ``deleted`` marks deletions and privacy erasures.
    """

    key: str
    occurred_at: str  # ISO 8601 UTC
    type: str
    object_type: str = "other"
    object_id: str = None
    customer: dict = field(default_factory=dict)
    changes: dict = field(default_factory=dict)
    deleted: bool = False
    payload: dict = field(default_factory=dict)


class Receiver:
    """Verify and parse one vendor's webhooks. ``settings`` maps ASSIST_* names to strings."""

    name = "base"

    def __init__(self, settings):
        self.settings = settings

    def verify(self, request):
        """Raise SignatureInvalid unless the request is signed by the vendor (and fresh)."""
        raise NotImplementedError

    def parse(self, request):
        """Return the list of WebhookEvents in the body, or raise MalformedPayload."""
        raise NotImplementedError

    def stored_body(self, body):
        """The raw body as we keep it for debugging; vendors that embed secrets redact them here."""
        return body

    def ack(self, events):
        """The response the vendor expects: (status, content_type, body)."""
        return 200, "application/json", b'{"ok": true}'


def register(name):
    """Decorator registering a Receiver subclass under ``name``."""

    def decorator(cls):
        RECEIVERS[name] = cls
        return cls

    return decorator


def receiver_for(name, settings):
    """An instance of the receiver registered as ``name``, or None."""
    import importlib

    if name not in RECEIVERS and name in BUILTIN:
        importlib.import_module(f"connectors.webhooks.{name}")
    cls = RECEIVERS.get(name)
    return cls(settings) if cls else None


def hmac_sha256(secret, message):
    """Raw HMAC-SHA256 digest of bytes ``message`` keyed by text ``secret``."""
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def b64(digest):
    """Base64 text of a digest."""
    return base64.b64encode(digest).decode()


def same(expected, given):
    """Constant-time comparison of two signature strings (False if either is missing)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def check_fresh(timestamp_seconds, now, max_age=MAX_AGE_SECONDS):
    """Raise SignatureInvalid if a signed timestamp is more than ``max_age`` from now."""
    if timestamp_seconds is None or abs(now - timestamp_seconds) > max_age:
        raise SignatureInvalid("the signed timestamp is missing or more than 5 minutes old")


def json_object(body, vendor):
    """The body as a JSON object, or MalformedPayload naming the vendor."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as e:
        raise MalformedPayload(f"the {vendor} body is not JSON", vendor.lower()) from e
    if not isinstance(data, dict):
        raise MalformedPayload(f"the {vendor} body is not a JSON object", vendor.lower())
    return data


def as_dict(value):
    """``value`` if it is a JSON object, else an empty dict (payload fields can be anything)."""
    return value if isinstance(value, dict) else {}


def as_text(value):
    """A scalar payload field as stripped text; objects, lists, booleans and blanks are None."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    return str(value).strip() or None
