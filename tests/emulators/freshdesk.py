"""A local Freshdesk API v2: contacts, companies, tickets and conversations.

Behaves as /work/shared/reference/crm-apis.md §4 records: basic auth with the API
key as user name (any password), 401 ``{"code":"invalid_credentials",...}``, 404
with an empty body, list endpoints answering JSON arrays paginated by
``page``/``per_page`` (default 30, at most 100, more is a 400 validation error)
with ``Link: <...>; rel="next"`` only while more pages exist, exact-match
``email``/``phone``/``mobile`` contact filters, a ticket list limited to tickets
created in the last 30 days unless ``updated_since`` is given, X-RateLimit-*
headers on every answer and 429 + Retry-After via ``throttle_next``.  The
contact list also filters by ``_updated_since`` and answers at most
``list_limit`` (2) contacts a page, fewer than asked, so tests cross pages.
"""

import base64
import sys
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from .base import Emulator

UNAUTHORIZED = {"code": "invalid_credentials", "message": "You have to be logged in to perform this action."}
DEFAULT_PER_PAGE, MAX_PER_PAGE = 30, 100
RATE_LIMIT = {"X-RateLimit-Total": "200", "X-RateLimit-Remaining": "199", "X-RateLimit-Used-CurrentRequest": "1"}


def _ago(now, **delta):
    return (now - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


class FreshdeskEmulator(Emulator):
    """Seeded with a few contacts; contact 201 has 13 tickets and ticket 312 has 8 conversations."""

    def __init__(self, api_key="fd-key-123", list_limit=2):
        super().__init__()
        self.api_key, self.list_limit = api_key, list_limit
        self.now = datetime.now(timezone.utc).replace(microsecond=0)
        self.contacts, self.companies, self.tickets, self.conversations = {}, {}, {}, {}
        self.seed()
        self.route("GET", r"/api/v2/contacts", self._authed(self.list_contacts))
        self.route("GET", r"/api/v2/contacts/(\d+)", self._authed(self.show(self.contacts)))
        self.route("GET", r"/api/v2/companies/(\d+)", self._authed(self.show(self.companies)))
        self.route("GET", r"/api/v2/tickets", self._authed(self.list_tickets))
        self.route("GET", r"/api/v2/tickets/(\d+)/conversations", self._authed(self.list_conversations))

    # -- data ----------------------------------------------------------------
    def seed(self):
        now = self.now
        self.companies[77] = {"id": 77, "name": "Globex"}
        self.add_contact(201, "Bruce Wayne", "bruce@example.com", phone="+14155550123", company_id=77,
                         custom_fields={"tier": "platinum"})
        self.add_contact(202, "Selina Kyle", "selina@example.com", mobile="4155550188", tags=["VIP"])
        self.add_contact(203, "Alfred Pennyworth", "alfred@example.com", phone="(415) 555-0177", updated_days=90)
        ages = [2, 4, 6, 8, 10, 12, 14, 16, 20, 25, 90, 200, 400]  # days since last update
        for n, age in enumerate(ages):
            ticket_id = 312 - n  # ticket 312 is the most recently updated
            self.tickets[ticket_id] = {
                "id": ticket_id, "subject": f"Issue {ticket_id}", "status": [2, 3, 4, 5, 6, 7][n % 6],
                "priority": n % 4 + 1, "source": [1, 2, 3, 7][n % 4], "type": None, "requester_id": 201,
                "responder_id": None, "tags": [], "due_by": None, "fr_due_by": None,
                "created_at": _ago(now, days=age + 1), "updated_at": _ago(now, days=age),
            }
        self.tickets[500] = {"id": 500, "subject": "Selina's", "status": 2, "priority": 1, "source": 1,
                             "requester_id": 202, "created_at": _ago(now, days=2), "updated_at": _ago(now, days=1)}
        for ticket_id in self.tickets:
            self.conversations[ticket_id] = []
        for n in range(8):
            private, incoming = n % 3 == 2, n % 2 == 0
            self.conversations[312].append({
                "id": 9001 + n, "ticket_id": 312, "body": f"<div>Message {n + 1}</div>",
                "body_text": f"Message {n + 1}", "private": private, "incoming": incoming and not private,
                "source": 2 if private else 0, "user_id": 201 if incoming else 1,
                "from_email": None if private else "bruce@example.com",
                "to_emails": None if private else ["support@acme.test"],
                "created_at": _ago(now, hours=90 - 5 * n), "updated_at": _ago(now, hours=90 - 5 * n),
            })
        self.conversations[311] = [{"id": 9100, "ticket_id": 311, "body": "<p>public note</p>",
                                    "body_text": "public note", "private": False, "incoming": False, "source": 2,
                                    "from_email": None, "to_emails": None, "created_at": _ago(now, days=4),
                                    "updated_at": _ago(now, days=4)}]

    def add_contact(self, contact_id, name, email, phone=None, mobile=None, company_id=None, custom_fields=None,
                    tags=None, updated_days=7):
        self.contacts[contact_id] = {
            "id": contact_id, "name": name, "email": email, "phone": phone, "mobile": mobile, "active": True,
            "company_id": company_id, "time_zone": "Eastern Time (US & Canada)", "language": "en",
            "custom_fields": custom_fields or {}, "tags": tags or [],
            "created_at": _ago(self.now, days=500), "updated_at": _ago(self.now, days=updated_days),
        }

    def start(self):
        """Start serving; a client that hung up on a slow answer is not an error worth printing."""
        super().start()
        report = self.server.handle_error

        def handle_error(request, client_address):
            if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                report(request, client_address)

        self.server.handle_error = handle_error
        return self

    def reset(self):
        """Forget queued faults, any outage and logged requests (the seeded data is never changed)."""
        with self._lock:
            self.faults.clear()
            self.outage = None
        self.requests.clear()
        return self

    def throttle_next(self, retry_after, times=1):
        """Answer the next request(s) with 429, ``Retry-After: retry_after`` and spent X-RateLimit-* headers."""
        headers = {**RATE_LIMIT, "X-RateLimit-Remaining": "0", "Retry-After": str(retry_after)}
        self.fail_next(429, b"", headers, times)

    # -- plumbing ------------------------------------------------------------
    def _authed(self, handler):
        def check(request):
            if _api_key(request.headers.get("authorization", "")) != self.api_key:
                return 401, UNAUTHORIZED, {}
            status, body, headers = handler(request)
            return status, body, {**RATE_LIMIT, **headers}

        return check

    def _page(self, request, items, limit=MAX_PER_PAGE):
        """One page of ``items`` (at most ``limit``) and, while more exist, a Link header to the next page."""
        try:
            per_page = int(request.query.get("per_page", DEFAULT_PER_PAGE))
            number = int(request.query.get("page", 1))
        except ValueError:
            return _invalid("per_page", "It should be a/an Positive Integer")
        if not 1 <= per_page <= MAX_PER_PAGE:
            return _invalid("per_page", f"Has to be less than or equal to {MAX_PER_PAGE}")
        per_page = min(per_page, limit)
        page = items[(number - 1) * per_page:number * per_page]
        if number * per_page >= len(items):
            return 200, page, {}
        following = urlencode({**request.query, "page": number + 1, "per_page": per_page})
        return 200, page, {"Link": f'<{self.url}{request.path}?{following}>; rel="next"'}

    # -- handlers ------------------------------------------------------------
    def list_contacts(self, request):
        found = [c for c in self.contacts.values()
                 if all(_same(request.query[f], c[f], f) for f in ("email", "phone", "mobile") if f in request.query)]
        if "_updated_since" in request.query:
            found = [c for c in found if c["updated_at"] >= request.query["_updated_since"]]
        return self._page(request, sorted(found, key=lambda c: c["id"]), limit=self.list_limit)

    def show(self, table):
        def handler(request):
            record = table.get(int(request.match.group(1)))
            return (200, record, {}) if record else (404, b"", {})

        return handler

    def list_tickets(self, request):
        query = request.query
        order_by, order_type = query.get("order_by", "created_at"), query.get("order_type", "desc")
        if order_by not in ("created_at", "due_by", "updated_at", "status") or order_type not in ("asc", "desc"):
            return _invalid("order_by", "It should be one of these values: 'created_at,due_by,updated_at,status'")
        found = list(self.tickets.values())
        if "requester_id" in query:
            found = [t for t in found if str(t["requester_id"]) == query["requester_id"]]
        if "updated_since" in query:
            found = [t for t in found if t["updated_at"] >= query["updated_since"]]
        else:  # documented default: only tickets created in the past 30 days
            found = [t for t in found if t["created_at"] >= _ago(self.now, days=30)]
        found.sort(key=lambda t: (t.get(order_by) or "", t["id"]), reverse=order_type == "desc")
        return self._page(request, found)

    def list_conversations(self, request):
        conversations = self.conversations.get(int(request.match.group(1)))
        if conversations is None:
            return 404, b"", {}
        return self._page(request, sorted(conversations, key=lambda c: c["created_at"]))


def _api_key(authorization):
    if not authorization.startswith("Basic "):
        return None
    try:
        return base64.b64decode(authorization[6:]).decode().split(":", 1)[0]
    except ValueError:
        return None


def _same(wanted, stored, field):
    """Filters match the stored value exactly (emails without regard to case)."""
    return (wanted.lower() == (stored or "").lower()) if field == "email" else wanted == stored


def _invalid(field, message):
    return 400, {"description": "Validation failed",
                 "errors": [{"field": field, "message": message, "code": "invalid_value"}]}, {}
