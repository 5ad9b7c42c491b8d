"""Chatwoot's Application API for contacts, contact conversations and contact notes, on a local server.

Behaviour follows chatwoot/chatwoot's controllers and views:
  contacts          the account's contacts with an email, phone or identifier,
                    15 a page via ``page``, ordered by ``sort`` (``created_at``,
                    ``last_activity_at``, ``name``, ``email``; ``-`` for
                    descending, nulls last); ``{"meta": {"count": total,
                    "current_page": page}, "payload": [...]}``
  contacts/search   ILIKE substring over name, email, phone_number, identifier
                    (plus id equality for a numeric q), 15 a page via ``page``,
                    422 without ``q``; ``{"meta": {...}, "payload": [...]}``
  contacts/{id}     ``{"payload": contact}``; 404 ``{"error": "Resource could not be found"}``
  .../conversations ``{"payload": [...]}``, the newest 20 by display id, unpaginated
  .../notes         a bare array, newest first, unpaginated
Timestamps are unix seconds.  Auth is the ``api_access_token`` header.

Seeded account 7:
  contacts 1-35     decoys whose email contains "sam@example.com" and whose phone
                    starts with "+14155550123", so Sam is on search page 3; last
                    active 30 days before Sam and Nina
  contact 40        Sam Carter, sam@example.com, +14155550123: 22 conversations, 3 notes
  contact 50        Nina Patel, nina@example.org, +442079460958: nothing else
"""

import socket

from .base import Emulator

TOKEN = "cw-test-token"
ACCOUNT_ID = 7
PER_PAGE = 15
CONVERSATION_LIMIT = 20
NOT_FOUND = {"error": "Resource could not be found"}
BASE_TIME = 1_790_000_000  # 2026-09-21T16:53:20Z
STATUSES = ["open", "resolved", "pending", "snoozed"]
SORTS = {"created_at", "last_activity_at", "name", "email"}
CHANNELS = ["Channel::WebWidget", "Channel::Email", "Channel::Whatsapp", "Channel::Api"]


def contact(contact_id, name, email, phone, company=None, tier=None, last_active=BASE_TIME):
    return {"additional_attributes": {"company_name": company} if company else {},
            "availability_status": "offline", "email": email, "id": contact_id, "name": name,
            "phone_number": phone, "identifier": None, "thumbnail": "",
            "custom_attributes": {"tier": tier} if tier else {},
            "last_activity_at": last_active + contact_id, "created_at": BASE_TIME - 86400 * 100 + contact_id,
            "contact_inboxes": []}


def message(message_id, conversation_id, content, created_at, message_type=0):
    return {"id": message_id, "content": content, "account_id": ACCOUNT_ID, "inbox_id": 1,
            "conversation_id": conversation_id, "message_type": message_type, "created_at": created_at,
            "private": False, "status": "sent", "source_id": None, "content_type": "text",
            "content_attributes": {}, "sender_type": "Contact", "sender_id": 40}


def conversation(display_id, sender):
    """Conversation ``display_id`` of ``sender``; activity order deliberately differs from id order."""
    n = display_id
    status, channel = STATUSES[n % 4], CHANNELS[n % 4]
    created = BASE_TIME + n * 3600
    last_activity = created + (7200 if n % 3 == 0 else 600) + (50_000 if n == 5 else 0)
    text = f"Question number {n}\nwith a second line"
    last = message(1000 + n, n, text, last_activity)
    activity = message(2000 + n, n, "Conversation was marked resolved by Agent", last_activity + 1, 2)
    return {
        "meta": {"sender": sender, "channel": channel, "hmac_verified": False,
                 "assignee": {"id": 1, "name": "John", "type": "user", "availability_status": "online"}},
        "id": n, "messages": [activity if status == "resolved" else last], "account_id": ACCOUNT_ID,
        "uuid": f"00000000-0000-4000-8000-{n:012d}",
        "additional_attributes": {"mail_subject": f"Invoice {n}"} if channel == "Channel::Email" else {},
        "agent_last_seen_at": 0, "assignee_last_seen_at": 0, "can_reply": True, "contact_last_seen_at": 0,
        "custom_attributes": {}, "inbox_id": n % 4 + 1, "labels": [], "muted": False,
        "snoozed_until": None, "status": status, "created_at": created, "timestamp": last_activity,
        "first_reply_created_at": 0, "unread_count": 0, "last_non_activity_message": last,
        "last_activity_at": last_activity, "priority": ["low", None, "high", "urgent"][n % 4],
        "waiting_since": 0, "sla_policy_id": None,
    }


def seed():
    """Contacts by id, conversations by contact id, notes by contact id."""
    contacts = {n: contact(n, f"Decoy {n}", f"x{n}sam@example.com", f"+14155550123{n % 10}",
                           last_active=BASE_TIME - 30 * 86400) for n in range(1, 36)}
    contacts[40] = contact(40, "Sam Carter", "sam@example.com", "+14155550123", "Stargate", "gold")
    contacts[50] = contact(50, "Nina Patel", "nina@example.org", "+442079460958")
    sender = {k: v for k, v in contacts[40].items() if k != "contact_inboxes"}
    conversations = {40: [conversation(n, sender) for n in range(1, 23)]}
    notes = {40: [{"id": 300 + n, "content": f"Prefers email, note {n}", "account_id": ACCOUNT_ID, "contact_id": 40,
                   "user": {"id": 1, "name": "John"}, "created_at": BASE_TIME + n * 86400,
                   "updated_at": BASE_TIME + n * 86400} for n in range(1, 4)]}
    return contacts, conversations, notes


class ChatwootEmulator(Emulator):
    """One Chatwoot account; see the module docstring for the data."""

    def __init__(self, token=TOKEN, account_id=ACCOUNT_ID):
        super().__init__()
        self.token, self.account_id = token, account_id
        self.contacts, self.conversations, self.notes = seed()
        prefix = r"/api/v1/accounts/(?P<account>\d+)/contacts"
        self.route("GET", prefix, self._authed(self.index))
        self.route("GET", prefix + r"/search", self._authed(self.search))
        self.route("GET", prefix + r"/(?P<id>\d+)", self._authed(self.show))
        self.route("GET", prefix + r"/(?P<id>\d+)/conversations", self._authed(self.contact_conversations))
        self.route("GET", prefix + r"/(?P<id>\d+)/notes", self._authed(self.contact_notes))

    def throttle_next(self, times=1):
        """Rack::Attack's throttled response: 429, text/plain "Retry later", no Retry-After."""
        self.fail_next(429, "Retry later\n", {"Content-Type": "text/plain"}, times)

    def _send(self, handler, status, body, headers):
        # The base writes headers and body separately; without TCP_NODELAY, Nagle's algorithm and
        # the client's delayed ACK add about 40 ms to every response on a kept-alive connection.
        try:
            handler.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super()._send(handler, status, body, headers)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up waiting (a slow_next fault): nothing to tell

    def _authed(self, handler):
        def check(request):
            token = request.headers.get("api_access_token")
            if not token:  # Devise's answer when no credentials came at all
                return 401, {"errors": ["You need to sign in or sign up before continuing."]}, {}
            if token != self.token:
                return 401, {"error": "Invalid Access Token"}, {}
            if int(request.match["account"]) != self.account_id:
                return 401, {"error": "You are not authorized to access this account"}, {}
            return handler(request)

        return check

    def index(self, request):
        field = (request.query.get("sort") or "").lstrip("-")
        if field and field not in SORTS:
            return 422, {"error": f"invalid sort {field}"}, {}
        resolved = [c for _, c in sorted(self.contacts.items()) if c["email"] or c["phone_number"] or c["identifier"]]
        if field:  # nulls last in either direction
            present = sorted((c for c in resolved if c.get(field) is not None), key=lambda c: c[field],
                             reverse=request.query["sort"].startswith("-"))
            resolved = present + [c for c in resolved if c.get(field) is None]
        page = int(request.query.get("page") or 1)
        found = resolved[(page - 1) * PER_PAGE:page * PER_PAGE]
        return 200, {"meta": {"count": len(resolved), "current_page": str(page)}, "payload": found}, {}

    def search(self, request):
        query = (request.query.get("q") or "").strip()
        if not query:
            return 422, {"error": "Specify search string with parameter q"}, {}
        needle = query.lower()
        matches = [c for _, c in sorted(self.contacts.items())
                   if any(needle in (c.get(f) or "").lower() for f in ("name", "email", "phone_number", "identifier"))
                   or (query.isdigit() and c["id"] == int(query))]
        page = int(request.query.get("page") or 1)
        found = matches[(page - 1) * PER_PAGE:page * PER_PAGE]
        return 200, {"meta": {"count": len(matches), "current_page": str(page)}, "payload": found}, {}

    def show(self, request):
        found = self.contacts.get(int(request.match["id"]))
        return (200, {"payload": found}, {}) if found else (404, NOT_FOUND, {})

    def contact_conversations(self, request):
        contact_id = int(request.match["id"])
        if contact_id not in self.contacts:
            return 404, NOT_FOUND, {}
        found = sorted(self.conversations.get(contact_id, []), key=lambda c: c["id"], reverse=True)
        return 200, {"payload": found[:CONVERSATION_LIMIT]}, {}

    def contact_notes(self, request):
        contact_id = int(request.match["id"])
        if contact_id not in self.contacts:
            return 404, NOT_FOUND, {}
        return 200, sorted(self.notes.get(contact_id, []), key=lambda n: n["created_at"], reverse=True), {}
