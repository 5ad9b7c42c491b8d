"""HubSpot's CRM v3 objects/search/batch-read and associations v4, as documented, on a local server.

Seeded portal (data in ``self.objects``):
  contact 101 Ada Lovelace, ada@example.com, phone "(415) 555-0100": 5 tickets (plus one deleted),
              5 notes, 3 tasks
  contact 102 Grace Hopper, grace@example.com, mobile "+44 20 7946 0958" only
  contact 103 Alan Turing, alan@example.com, "+1 212 555 0199": nothing associated
  contact 104 Lin Decoy, "+44 4155 550100" (same national digits as Ada, other country)
Property values are strings, as HubSpot sends them.  Search pages with a numeric
``after`` in the body, filters with EQ, GT, GTE, LT and LTE (datetime properties
compare as epoch milliseconds) and sorts on one property; the contact list
(``GET /crm/v3/objects/contacts``) and associations page with an opaque ``after``
query cursor; ``paging`` is present only when there is a next page.  The list
answers at most ``list_limit`` (2) contacts a page, fewer than asked, so tests
cross pages.
"""

import base64
import operator
import re
import socket
import uuid
from datetime import datetime

import phonenumbers

from .base import Emulator

TOKEN = "pat-na1-test-token"
DEFAULT_CONTACT_PROPERTIES = ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"]
SEARCH_MAX_LIMIT = 200
ASSOCIATION_MAX_LIMIT = 500
BATCH_MAX_INPUTS = 100
ASSOCIATION_TYPE_IDS = {"tickets": 15, "notes": 201, "tasks": 203}
LIST_MAX_LIMIT = 100
DATETIME_PROPERTIES = {"createdate", "lastmodifieddate", "hs_lastmodifieddate", "hs_createdate", "hs_timestamp"}
OPERATORS = {"EQ": operator.eq, "GT": operator.gt, "GTE": operator.ge, "LT": operator.lt, "LTE": operator.le}


def _object(object_id, created, **properties):
    properties = {"hs_object_id": str(object_id), "createdate": created, "hs_createdate": created, **properties}
    return {"id": str(object_id), "properties": properties, "createdAt": created,
            "updatedAt": properties.get("hs_lastmodifieddate") or properties.get("lastmodifieddate") or created,
            "archived": False}


def seed():
    """The seeded portal: object type -> id -> object, and contact id -> type -> associated ids."""
    contacts = [
        _object(101, "2025-01-10T10:00:00.000Z", firstname="Ada", lastname="Lovelace", email="ada@example.com",
                phone="(415) 555-0100", company="Analytical Engines", lifecyclestage="customer",
                hs_lead_status="OPEN", lastmodifieddate="2026-10-30T08:00:00.000Z"),
        _object(102, "2025-02-01T10:00:00.000Z", firstname="Grace", lastname="Hopper", email="grace@example.com",
                mobilephone="+44 20 7946 0958", lifecyclestage="lead", lastmodifieddate="2026-09-01T08:00:00.000Z"),
        _object(103, "2025-03-01T10:00:00.000Z", firstname="Alan", lastname="Turing", email="alan@example.com",
                phone="+1 212 555 0199", lastmodifieddate="2026-08-01T08:00:00.000Z"),
        _object(104, "2025-04-01T10:00:00.000Z", firstname="Lin", lastname="Decoy", email="lin@example.co.uk",
                phone="+44 4155 550100", lastmodifieddate="2026-08-02T08:00:00.000Z"),
    ]
    tickets = [
        _object(9001, "2026-06-01T09:00:00.000Z", subject="Printer on fire", content="It is on fire.",
                hs_pipeline="0", hs_pipeline_stage="4", hs_ticket_priority="HIGH",
                hs_lastmodifieddate="2026-06-03T09:00:00.000Z"),
        _object(9002, "2026-07-01T09:00:00.000Z", subject="Refund for order 77", content="Charged twice.",
                hs_pipeline="0", hs_pipeline_stage="1", hs_ticket_priority="MEDIUM",
                hs_lastmodifieddate="2026-10-29T09:00:00.000Z"),
        _object(9003, "2026-08-01T09:00:00.000Z", subject="Login loop", content="Cannot sign in.",
                hs_pipeline="0", hs_pipeline_stage="2", hs_ticket_priority="LOW",
                hs_lastmodifieddate="2026-08-02T09:00:00.000Z"),
        _object(9004, "2026-09-01T09:00:00.000Z", subject="Invoice address", content="Wrong street.",
                hs_pipeline="0", hs_pipeline_stage="4", hs_ticket_priority=None,
                hs_lastmodifieddate="2026-09-05T09:00:00.000Z"),
        _object(9005, "2026-10-01T09:00:00.000Z", subject="Slow dashboard", content="Takes a minute.",
                hs_pipeline="0", hs_pipeline_stage="3", hs_ticket_priority="HIGH",
                hs_lastmodifieddate="2026-10-20T09:00:00.000Z"),
    ]
    notes = [_object(7000 + n, f"2026-10-0{n}T12:00:00.000Z", hs_timestamp=f"2026-10-0{n}T12:00:00.000Z",
                     hs_note_body=f"<div><p>Called about refund, step {n} &amp; more</p></div>")
             for n in range(1, 6)]
    tasks = [
        _object(8001, "2026-10-02T08:00:00.000Z", hs_task_subject="Call back about refund",
                hs_task_body="<p>Promised a call</p>", hs_timestamp="2026-10-03T15:00:00.000Z",
                hs_task_status="COMPLETED", hs_task_type="CALL"),
        _object(8002, "2026-10-28T08:00:00.000Z", hs_task_subject="Send the new invoice",
                hs_task_body=None, hs_timestamp="2026-11-04T09:00:00.000Z",
                hs_task_status="NOT_STARTED", hs_task_type="EMAIL"),
        _object(8003, "2026-05-01T08:00:00.000Z", hs_task_subject="Check the printer",
                hs_task_body="Old promise", hs_timestamp="2026-05-02T09:00:00.000Z",
                hs_task_status="NOT_STARTED", hs_task_type="TODO"),
    ]
    objects = {"contacts": contacts, "tickets": tickets, "notes": notes, "tasks": tasks}
    objects = {kind: {o["id"]: o for o in items} for kind, items in objects.items()}
    # 9999 was deleted but is still associated: batch reads answer 207 with an error for it.
    associations = {"101": {"tickets": [o["id"] for o in tickets] + ["9999"], "notes": [o["id"] for o in notes],
                            "tasks": [o["id"] for o in tasks]}}
    return objects, associations


def error(message, category, **extra):
    """HubSpot's error envelope."""
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category, **extra}


class HubSpotEmulator(Emulator):
    """A HubSpot portal with bearer-token auth; see the module docstring for the data."""

    def __init__(self, token=TOKEN, list_limit=2):
        super().__init__()
        self.token = token
        self.list_limit = list_limit
        self.objects, self.associations = seed()
        self.route("POST", r"/crm/v3/objects/contacts/search", self._authed(self.search))
        self.route("GET", r"/crm/v3/objects/(?P<type>\w+)", self._authed(self.list_objects))
        self.route("GET", r"/crm/v3/objects/(?P<type>\w+)/(?P<id>[^/]+)", self._authed(self.read))
        self.route("POST", r"/crm/v3/objects/(?P<type>\w+)/batch/read", self._authed(self.batch_read))
        self.route("GET", r"/crm/v4/objects/contacts/(?P<id>[^/]+)/associations/(?P<to>\w+)",
                   self._authed(self.associated))

    # -- throttling helpers for tests ----------------------------------------
    def throttle_next(self, policy="TEN_SECONDLY_ROLLING", interval_ms=10000, times=1, retry_after=None):
        """Answer the next requests with HubSpot's 429 for ``policy``."""
        message = ("You have reached your daily limit." if policy == "DAILY"
                   else "You have reached your ten_secondly_rolling limit.")
        body = {"status": "error", "message": message, "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()),
                "policyName": policy, "requestId": str(uuid.uuid4())}
        headers = {"X-HubSpot-RateLimit-Interval-Milliseconds": str(interval_ms),
                   "X-HubSpot-RateLimit-Max": "100", "X-HubSpot-RateLimit-Remaining": "0",
                   "X-HubSpot-RateLimit-Daily": "250000",
                   "X-HubSpot-RateLimit-Daily-Remaining": "0" if policy == "DAILY" else "240000"}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        self.fail_next(429, body, headers, times)

    def _send(self, handler, status, body, headers):
        # The base writes headers and body separately; without TCP_NODELAY, Nagle's algorithm and
        # the client's delayed ACK add about 40 ms to every response on a kept-alive connection.
        try:
            handler.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super()._send(handler, status, body, headers)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up waiting (a slow_next fault): nothing to tell

    # -- auth ---------------------------------------------------------------
    def _authed(self, handler):
        def check(request):
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return 401, error("Authentication credentials not found. This API supports OAuth 2.0 "
                                  "authentication and you can find more details at "
                                  "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                                  "INVALID_AUTHENTICATION"), {}
            status, body, headers = handler(request)
            limits = {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Max": "100",
                      "X-HubSpot-RateLimit-Remaining": "99"}
            return status, body, {**limits, **headers}

        return check

    # -- handlers -----------------------------------------------------------
    def search(self, request):
        body = request.json() or {}
        groups = body.get("filterGroups") or []
        limit = int(body.get("limit", 10))
        if len(groups) > 5 or any(len(g.get("filters") or []) > 6 for g in groups) or limit > SEARCH_MAX_LIMIT:
            return 400, error("Invalid search request", "VALIDATION_ERROR"), {}
        matches = [c for c in self.objects["contacts"].values()
                   if not groups or any(all(_matches(c, f) for f in g.get("filters") or []) for g in groups)]
        for sort in (body.get("sorts") or [])[:1]:
            name = sort.get("propertyName")
            matches.sort(key=lambda c: _comparable(name, c["properties"].get(name)) or 0,
                         reverse=sort.get("direction") == "DESCENDING")
        start = int(body.get("after") or 0)
        page = matches[start:start + limit]
        wanted = DEFAULT_CONTACT_PROPERTIES + (body.get("properties") or [])
        result = {"total": len(matches), "results": [_with_properties(c, wanted) for c in page]}
        if start + limit < len(matches):
            result["paging"] = {"next": {"after": str(start + limit)}}
        return 200, result, {}

    def list_objects(self, request):
        """One page of objects in id order; ``after`` is the id to start from, as HubSpot's list uses."""
        kind = request.match["type"]
        limit = int(request.query.get("limit") or 10)
        if limit > LIST_MAX_LIMIT:
            return 400, error(f"limit must be at most {LIST_MAX_LIMIT}", "VALIDATION_ERROR"), {}
        after = int(request.query.get("after") or 0)
        found = sorted((o for o in self.objects.get(kind, {}).values() if int(o["id"]) >= after),
                       key=lambda o: int(o["id"]))
        page = found[:min(limit, self.list_limit)]
        wanted = [p for p in (request.query.get("properties") or "").split(",") if p]
        body = {"results": [_with_properties(o, wanted or DEFAULT_CONTACT_PROPERTIES) for o in page]}
        if len(found) > len(page):
            following = found[len(page)]["id"]
            body["paging"] = {"next": {"after": following, "link": f"{self.url}{request.path}?after={following}"}}
        return 200, body, {}

    def read(self, request):
        kind, object_id = request.match["type"], request.match["id"]
        found = self.objects.get(kind, {}).get(object_id)
        if found is None:
            return 404, error("Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND",
                              context={"id": [object_id]}), {}
        wanted = [p for p in (request.query.get("properties") or "").split(",") if p]
        return 200, _with_properties(found, wanted or DEFAULT_CONTACT_PROPERTIES), {}

    def batch_read(self, request):
        kind, body = request.match["type"], request.json() or {}
        inputs = [str(i.get("id")) for i in body.get("inputs") or []]
        if len(inputs) > BATCH_MAX_INPUTS:
            return 400, error(f"Batch input limit is {BATCH_MAX_INPUTS}", "VALIDATION_ERROR"), {}
        store = self.objects.get(kind, {})
        found = [_with_properties(store[i], body.get("properties") or []) for i in inputs if i in store]
        result = {"status": "COMPLETE", "results": found[::-1],  # HubSpot promises no order
                  "startedAt": "2026-11-02T09:15:00.000Z", "completedAt": "2026-11-02T09:15:00.100Z"}
        missing = [i for i in inputs if i not in store]
        if missing:
            result["numErrors"] = 1
            result["errors"] = [error("Could not get some objects", "OBJECT_NOT_FOUND", context={"ids": missing})]
            return 207, result, {}
        return 200, result, {}

    def associated(self, request):
        contact_id, to = request.match["id"], request.match["to"]
        ids = self.associations.get(contact_id, {}).get(to, [])
        limit = min(int(request.query.get("limit") or ASSOCIATION_MAX_LIMIT), ASSOCIATION_MAX_LIMIT)
        after = request.query.get("after")
        start = int(base64.b64decode(after).decode()) if after else 0
        type_id = ASSOCIATION_TYPE_IDS.get(to, 1)
        results = [{"toObjectId": int(i), "associationTypes": [
            {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}]} for i in ids[start:start + limit]]
        body = {"results": results}
        if start + limit < len(ids):
            cursor = base64.b64encode(str(start + limit).encode()).decode()
            body["paging"] = {"next": {"after": cursor, "link": f"?after={cursor}"}}
        return 200, body, {}


def _with_properties(found, wanted):
    """The object with only the requested properties (missing ones come back as null)."""
    props = found["properties"]
    return {**found, "properties": {"hs_object_id": found["id"], **{p: props.get(p) for p in wanted}}}


def _matches(contact, flt):
    name, op, value = flt.get("propertyName"), flt.get("operator"), str(flt.get("value", ""))
    stored = contact["properties"].get(name)
    if op not in OPERATORS or stored is None:
        return False
    if op == "EQ" and name in ("phone", "mobilephone"):  # HubSpot's calculated phone properties: national digits
        return _national(stored) == re.sub(r"\D", "", value)
    if op == "EQ":
        return stored.lower() == value.lower()
    left, right = _comparable(name, stored), _comparable(name, value)
    return left is not None and right is not None and OPERATORS[op](left, right)


def _comparable(name, value):
    """A property value as HubSpot orders it: datetimes as epoch ms, numbers as numbers, else text."""
    if value is None:
        return None
    value = str(value)
    if name in DATETIME_PROPERTIES and not value.isdigit():
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return None
    return int(value) if value.isdigit() else value.lower()


def _national(raw):
    try:
        return str(phonenumbers.parse(raw, "US").national_number)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", raw)
