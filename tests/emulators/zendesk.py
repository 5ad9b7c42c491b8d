"""A local Zendesk Support API: users, organizations, requested tickets and comments.

Behaves as developer.zendesk.com documents (see /work/shared/reference/crm-apis.md §2):
API-token basic auth (``{email}/token:{token}``), 401 ``{"error":"Couldn't
authenticate you"}``, 404 ``{"error":"RecordNotFound","description":"Not found"}``,
cursor pagination (``page[size]``/``page[after]`` -> ``meta`` + ``links``, where
``links.next`` is present even on the last page and only ``meta.has_more`` says
stop), offset pagination (``next_page``/``previous_page``/``count``) when no
``page[size]`` is sent, and 429 + Retry-After via ``throttle_next``.

Listing users (``GET /api/v2/users``, filtered by ``role``) answers at most
``list_limit`` (2) users a page, fewer than asked, so tests cross pages.  The
cursor-based incremental user export (``/api/v2/incremental/users/cursor``)
takes ``start_time`` (unix seconds) then ``cursor``, orders by ``updated_at``,
answers ``after_cursor``/``end_of_stream`` and, as documented, only admins: set
``admin = False`` for an agent's token and it answers 403.
"""

import base64
import re
import sys
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from .base import Emulator

UNAUTHORIZED = {"error": "Couldn't authenticate you"}
NOT_FOUND = {"error": "RecordNotFound", "description": "Not found"}
MAX_PAGE_SIZE = 100
EXPORT_MAX_PAGE_SIZE = 1000
FORBIDDEN = {"error": "Forbidden", "description": "You do not have access to this page. Please contact the account "
             "owner of this help desk for further help."}


def _ago(now, **delta):
    return (now - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


class ZendeskEmulator(Emulator):
    """Seeded with a few end users and one agent; user 101 has 12 tickets and ticket 5012 has 11 comments."""

    def __init__(self, email="agent@acme.test", token="zd-token-123", list_limit=2):
        super().__init__()
        self.email, self.token = email, token
        self.list_limit, self.admin = list_limit, True
        self.now = datetime.now(timezone.utc).replace(microsecond=0)
        self.users, self.organizations, self.tickets, self.comments = {}, {}, {}, {}
        self.seed()
        self.route("GET", r"/api/v2/users(?:\.json)?", self._authed(self.list_users))
        self.route("GET", r"/api/v2/incremental/users/cursor(?:\.json)?", self._authed(self.export_users))
        self.route("GET", r"/api/v2/users/search(?:\.json)?", self._authed(self.search_users))
        self.route("GET", r"/api/v2/search(?:\.json)?", self._authed(self.search))
        self.route("GET", r"/api/v2/users/(\d+)(?:\.json)?", self._authed(self.show_user))
        self.route("GET", r"/api/v2/organizations/(\d+)(?:\.json)?", self._authed(self.show_organization))
        self.route("GET", r"/api/v2/users/(\d+)/tickets/requested(?:\.json)?", self._authed(self.requested))
        self.route("GET", r"/api/v2/tickets/(\d+)/comments(?:\.json)?", self._authed(self.list_comments))

    # -- data ----------------------------------------------------------------
    def seed(self):
        now = self.now
        self.organizations[900] = {"id": 900, "name": "Acme Rockets"}
        self.add_user(100, "Ravi Decoy", "ravi@example.in", "+91 41555 50100")  # same national digits as Ada
        self.add_user(101, "Ada Lovelace", "ada@example.com", "+1 (415) 555-0100", organization_id=900,
                      user_fields={"tier": "gold"}, tags=["vip"])
        self.add_user(102, "Grace Hopper", "grace@example.co.uk", "020 7946 0018", tags=["tier_silver"],
                      updated_days=40)
        self.add_user(103, "Mada Decoy", "mada@example.com", None, updated_days=60)
        self.add_user(90, "Andy Agent", "agent@acme.test", None, role="agent", updated_days=1)
        statuses = ["new", "open", "pending", "hold", "solved", "closed"]
        for n in range(12):  # ticket 5012 is the most recently updated
            self.tickets[5001 + n] = {
                "id": 5001 + n, "subject": f"Problem number {n + 1}", "description": f"Details of problem {n + 1}",
                "status": statuses[n % 6], "priority": ["low", "normal", "high", "urgent"][n % 4],
                "requester_id": 101, "via": {"channel": "email" if n % 2 else "web"},
                "created_at": _ago(now, days=60 - n), "updated_at": _ago(now, days=24 - 2 * n),
            }
        self.tickets[5100] = {"id": 5100, "subject": "Someone else's", "status": "open", "requester_id": 100,
                              "created_at": _ago(now, days=3), "updated_at": _ago(now, days=1)}
        for ticket_id in self.tickets:
            self.comments[ticket_id] = []
        for n in range(11):
            self.comments[5012].append({
                "id": 7001 + n, "type": "VoiceComment" if n == 4 else "Comment", "author_id": 101,
                "body": f"Comment {n + 1} body", "plain_body": f"Comment {n + 1} body",
                "public": n % 3 != 2, "via": {"channel": "voice" if n == 4 else "email"},
                "created_at": _ago(now, hours=150 - 10 * n), "attachments": [],
            })
        self.comments[5011] = [{"id": 7100, "type": "Comment", "body": "Earlier ticket", "plain_body": "Earlier ticket",
                                "public": True, "created_at": _ago(now, days=3), "attachments": []}]

    def add_user(self, user_id, name, email, phone, organization_id=None, user_fields=None, tags=None,
                 role="end-user", updated_days=5):
        self.users[user_id] = {
            "id": user_id, "url": f"https://acme.zendesk.com/api/v2/users/{user_id}.json", "name": name,
            "email": email, "phone": phone, "role": role, "organization_id": organization_id,
            "user_fields": user_fields or {}, "tags": tags or [], "external_id": None, "active": True,
            "created_at": _ago(self.now, days=400), "updated_at": _ago(self.now, days=updated_days),
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
        """Answer the next request(s) with 429 and ``Retry-After: retry_after`` seconds."""
        self.fail_next(429, "Too Many Requests", {"Retry-After": str(retry_after)}, times)

    # -- plumbing ------------------------------------------------------------
    def _authed(self, handler):
        expected = "Basic " + base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()

        def check(request):
            if request.headers.get("authorization") != expected:
                return 401, UNAUTHORIZED, {"WWW-Authenticate": 'Basic realm="Web Password"'}
            status, body, headers = handler(request)
            return status, body, {"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "699", **headers}

        return check

    def _page(self, request, key, items, limit=MAX_PAGE_SIZE):
        """Cursor pagination when ``page[size]`` is given, offset pagination otherwise; at most ``limit`` a page."""
        if "page[size]" not in request.query:
            return 200, self._offset_page(request, key, items), {}
        size = min(int(request.query["page[size]"]), MAX_PAGE_SIZE, limit)
        start = _decode(request.query.get("page[after]"))
        if start is None:
            return 400, {"error": "InvalidPaginationParameter", "description": "invalid cursor"}, {}
        page, end = items[start:start + size], min(start + size, len(items))
        after, before = _encode(end), _encode(start)
        base = {k: v for k, v in request.query.items() if not k.startswith("page[")}
        link = lambda **extra: f"{self.url}{request.path}?{urlencode({**base, 'page[size]': size, **extra})}"
        return 200, {
            key: page,
            "meta": {"has_more": end < len(items), "after_cursor": after if page else None,
                     "before_cursor": before if page else None},
            "links": {"next": link(**{"page[after]": after}), "prev": link(**{"page[before]": before})},
        }, {}

    def _offset_page(self, request, key, items):
        per_page = min(int(request.query.get("per_page", 100)), MAX_PAGE_SIZE)
        number = int(request.query.get("page", 1))
        page = items[(number - 1) * per_page:number * per_page]
        more = number * per_page < len(items)
        url = lambda n: f"{self.url}{request.path}?{urlencode({'page': n, 'per_page': per_page})}"
        return {key: page, "next_page": url(number + 1) if more else None,
                "previous_page": url(number - 1) if number > 1 else None, "count": len(items)}

    # -- handlers ------------------------------------------------------------
    def list_users(self, request):
        roles = request.query_all.get("role") or request.query_all.get("role[]") or []
        found = [u for _, u in sorted(self.users.items()) if not roles or u["role"] in roles]
        return self._page(request, "users", found, limit=self.list_limit)

    def export_users(self, request):
        """The cursor-based incremental export: users changed at or after start_time, oldest change first."""
        if not self.admin:
            return 403, FORBIDDEN, {}
        if "cursor" in request.query:
            position = _decode_export(request.query["cursor"])
        elif request.query.get("start_time", "").isdigit():
            position = int(request.query["start_time"]), 0
        else:
            return 400, {"error": "InvalidValue", "description": "start_time is required"}, {}
        if position is None:
            return 400, {"error": "InvalidPaginationParameter", "description": "invalid cursor"}, {}
        (since, start), size = position, min(int(request.query.get("per_page", EXPORT_MAX_PAGE_SIZE)),
                                             EXPORT_MAX_PAGE_SIZE, self.list_limit)
        found = sorted((u for u in self.users.values() if _unix(u["updated_at"]) >= since),
                       key=lambda u: (u["updated_at"], u["id"]))
        end = min(start + size, len(found))
        after = _encode_export(since, end)  # the cursor carries the export's start time and position
        return 200, {"users": found[start:end], "after_cursor": after, "before_cursor": None,
                     "after_url": f"{self.url}{request.path}?cursor={after}", "before_url": None,
                     "end_of_stream": end >= len(found)}, {}

    def search_users(self, request):
        query = request.query.get("query", "").strip()
        match = re.fullmatch(r"email:(\S+)", query)
        if match:
            found = [u for u in self.users.values() if (u["email"] or "").lower() == match.group(1).lower()]
        else:
            found = [u for u in self.users.values()
                     if query and any(query.lower() in (u[f] or "").lower() for f in ("name", "email", "phone"))]
        return 200, self._offset_page(request, "users", found), {}

    def search(self, request):
        terms = dict(t.split(":", 1) for t in request.query.get("query", "").split() if ":" in t)
        if terms.get("type") != "user":
            return 200, {"results": [], "facets": None, "next_page": None, "previous_page": None, "count": 0}, {}
        found = [u for u in self.users.values() if _phone_matches(u["phone"], terms.get("phone"))
                 and ("email" not in terms or (u["email"] or "").lower() == terms["email"].lower())]
        body = self._offset_page(request, "results", [{**u, "result_type": "user"} for u in found])
        return 200, {**body, "facets": None}, {}

    def show_user(self, request):
        user = self.users.get(int(request.match.group(1)))
        return (200, {"user": user}, {}) if user else (404, NOT_FOUND, {})

    def show_organization(self, request):
        organization = self.organizations.get(int(request.match.group(1)))
        return (200, {"organization": organization}, {}) if organization else (404, NOT_FOUND, {})

    def requested(self, request):
        user_id = int(request.match.group(1))
        if user_id not in self.users:
            return 404, NOT_FOUND, {}
        found = sorted((t for t in self.tickets.values() if t["requester_id"] == user_id), key=lambda t: t["id"])
        return self._page(request, "tickets", found)

    def list_comments(self, request):
        comments = self.comments.get(int(request.match.group(1)))
        if comments is None:
            return 404, NOT_FOUND, {}
        order = request.query.get("sort", "created_at")
        ordered = sorted(comments, key=lambda c: c["created_at"], reverse=order == "-created_at")
        return self._page(request, "comments", ordered)


def _phone_matches(stored, wanted):
    """Zendesk phone search: digits only; a leading * matches any prefix (any stored format)."""
    if wanted is None:
        return True
    digits = re.sub(r"\D", "", stored or "")
    return digits.endswith(wanted[1:]) if wanted.startswith("*") else digits == wanted


def _encode(offset):
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode()


def _decode(cursor):
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        return int(text[1:]) if text.startswith("o") else None
    except ValueError:
        return None


def _encode_export(since, position):
    return base64.urlsafe_b64encode(f"x{since}.{position}".encode()).decode()


def _decode_export(cursor):
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        since, position = text[1:].split(".")
        return (int(since), int(position)) if text.startswith("x") else None
    except ValueError:
        return None


def _unix(stamp):
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
