"""Freshdesk (API v2): contacts, the tickets they requested, and the conversations on recent tickets.

Basic auth with the API key as user name and ``X`` as password, ``page``/``per_page``
pagination followed through the ``Link: <...>; rel="next"`` header, and 429 +
Retry-After throttling; see docs/connectors/freshdesk.md.

A sync lists contacts with ``GET /api/v2/contacts?page=&per_page=`` (plus
``_updated_since`` with ``since``); the cursor is the next page number, and the
``Link`` header says whether there is one.
"""

import logging
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import phonenumbers

from .base import Activity, Connector, Customer, NotConfigured, Ticket, Unavailable
from .http import DEFAULT_TIMEOUT, HttpClient
from .phones import national_digits, to_e164
from .registry import register
from .util import (
    ActivitiesFromTickets,
    activities_since,
    cursor_pages,
    iso_utc,
    path_segment,
    plain_text,
    site_root,
    summary,
    tickets_since,
    tier_from,
)

log = logging.getLogger(__name__)

STATUSES = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
CLOSED_STATUSES = {4, 5}
PRIORITIES = {1: "low", 2: "medium", 3: "high", 4: "urgent"}
SOURCES = {1: "email", 2: "portal", 3: "phone", 7: "chat", 9: "feedback_widget", 10: "outbound_email"}
MAX_PER_PAGE = 100
# The contact list's changed-since filter, with the leading underscore of Freshdesk's published
# examples (the ticket list's is ``updated_since``); not checked against a live account.
CONTACTS_UPDATED_SINCE = "_updated_since"


class FreshdeskConnector(ActivitiesFromTickets, Connector):
    """Read-only Freshdesk connector.

    The ticket list only reaches tickets updated in the last ``history_days``
    days (or since ``since``): without ``updated_since`` Freshdesk returns only
    tickets created in the last 30 days.  ``conversation_tickets`` bounds how
    many recent tickets have their conversations read.
    """

    name = "freshdesk"

    def __init__(self, base_url, api_key, region="US", timeout=DEFAULT_TIMEOUT, max_wait=10.0, backoff=0.5,
                 page_size=MAX_PER_PAGE, conversation_tickets=5, history_days=365, max_pages=20,
                 sleep=time.sleep):
        self.base_url = site_root(base_url)
        self.region = region
        self.page_size = min(page_size, MAX_PER_PAGE)
        self.conversation_tickets = conversation_tickets
        self.history_days = history_days
        self.max_pages = max_pages
        self.http = HttpClient(self.name, self.base_url, auth=(api_key, "X"), timeout=timeout,
                               max_wait=max_wait, backoff=backoff, sleep=sleep)

    # -- customers ------------------------------------------------------------

    def _by_id(self, contact_id):
        contact_id = str(contact_id).strip()
        if not contact_id.isdigit():
            return None
        contact = self.http.json("GET", f"/api/v2/contacts/{contact_id}", allow_404=True)
        return None if contact is None else self._customer(_record(contact))

    def _by_email(self, email):
        email = email.strip()
        if "@" not in email or any(c.isspace() for c in email):
            return None
        for contact in _records(self.http.json("GET", "/api/v2/contacts", params={"email": email})):
            if (contact.get("email") or "").lower() == email.lower():
                return self._customer(contact)
        return None

    def _by_phone(self, phone):
        """Try the forms a number is usually stored in, as phone then mobile (the filters match exactly)."""
        e164 = to_e164(phone, self.region)
        if not e164:
            return None
        for candidate in _phone_forms(phone, e164):
            for field in ("phone", "mobile"):
                for contact in _records(self.http.json("GET", "/api/v2/contacts", params={field: candidate})):
                    if to_e164(contact.get(field), self.region) == e164:
                        return self._customer(contact)
        return None

    def _customer(self, contact):
        raw_phone = contact.get("phone") or contact.get("mobile")
        return Customer(
            source=self.name, id=str(contact["id"]), name=contact.get("name"), email=contact.get("email"),
            phone=to_e164(raw_phone, self.region) or raw_phone, company=self._company_name(contact.get("company_id")),
            tier=tier_from(contact.get("custom_fields"), contact.get("tags")),
            url=f"{self.base_url}/a/contacts/{contact['id']}", updated_at=iso_utc(contact.get("updated_at")),
        )

    # -- listing for a sync -----------------------------------------------------
    def customer_pages(self, since=None, cursor=None):
        """Every contact (updated since ``since``), a page at a time; the cursor is the next page number."""
        params = {"per_page": self.page_size}
        if since:
            params[CONTACTS_UPDATED_SINCE] = iso_utc(since).replace("+00:00", "Z")
        return cursor_pages(lambda page: self._contact_page(params, int(page or 1)), cursor, self.name)

    def _contact_page(self, params, page):
        response = self.http.request("GET", "/api/v2/contacts", params={**params, "page": page})
        contacts = [self._customer(c) for c in _records(_json(response))]
        return contacts, page + 1 if response.links.get("next") else None

    def _company_name(self, company_id):
        if not company_id:
            return None
        company = self.http.json("GET", f"/api/v2/companies/{path_segment(company_id)}", allow_404=True)
        return None if company is None else _record(company).get("name")

    # -- tickets and conversations ----------------------------------------------
    def tickets(self, customer, since=None):
        """Tickets the contact requested (all pages), newest first, updated at or after ``since``."""
        since = iso_utc(since)
        params = {"requester_id": customer.id, "order_by": "updated_at", "order_type": "desc",
                  "per_page": self.page_size}
        floor = since or self._history_start()
        if floor:
            params["updated_since"] = floor.replace("+00:00", "Z")
        return tickets_since([self._ticket(row) for row in self._linked("/api/v2/tickets", params)], since)

    def _history_start(self):
        """How far back the ticket list reaches when no ``since`` is given (None: Freshdesk's 30 days)."""
        if not self.history_days:
            return None
        return iso_utc(datetime.now(timezone.utc) - timedelta(days=self.history_days))

    def _activities(self, tickets, since):
        found = []
        for ticket in tickets[: self.conversation_tickets]:
            rows = self._linked(f"/api/v2/tickets/{path_segment(ticket.id)}/conversations",
                                {"per_page": self.page_size})
            found += [_activity(row, ticket.id) for row in rows]
        return activities_since(found, since)

    def _ticket(self, row):
        code = row.get("status")
        return Ticket(
            source=self.name, id=str(row["id"]), subject=row.get("subject"),
            description=row.get("description_text"), status=STATUSES.get(code, _custom(code)),
            priority=PRIORITIES.get(row.get("priority")), created_at=iso_utc(row.get("created_at")),
            updated_at=iso_utc(row.get("updated_at")), url=f"{self.base_url}/a/tickets/{row['id']}",
            is_open=code not in CLOSED_STATUSES, channel=SOURCES.get(row.get("source")),
        )

    def _linked(self, path, params):
        """Every item of a list, following ``Link: <...>; rel="next"`` until there is none."""
        items, request = [], {"params": params}
        for _ in range(self.max_pages):
            response = self.http.request("GET", path, allow_404=True, **request)
            if response is None:  # the ticket went away meanwhile
                return items
            items += _records(_json(response))
            following = response.links.get("next", {}).get("url")
            if not following:
                return items
            # Only the path and query are taken, so the API key never goes to another host.
            parts = urlsplit(following)
            path, request = f"{parts.path}?{parts.query}", {}
        log.warning("freshdesk %s: stopped after %d pages", path.split("?")[0], self.max_pages)
        return items

    def close(self):
        """Close the HTTP session."""
        self.http.close()


def _activity(conversation, ticket_id):
    private = bool(conversation.get("private"))
    emailed = bool(conversation.get("from_email") or conversation.get("to_emails"))
    kind = "note" if private else ("email" if emailed else "comment")
    return Activity(
        source="freshdesk", id=str(conversation["id"]), at=iso_utc(conversation.get("created_at")), kind=kind,
        channel="email" if emailed and not private else None,
        summary=summary(conversation.get("body_text") or plain_text(conversation.get("body"))),
        ticket_id=str(ticket_id),
    )


def _phone_forms(typed, e164):
    """E.164, national format, bare national digits and the number as typed, without repeats."""
    national = phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)
    forms = [e164, national, national_digits(e164), typed.strip()]
    return [form for n, form in enumerate(forms) if form and form not in forms[:n]]


def _custom(code):
    """Custom statuses (6, 7, ...) are account-defined pending-like states: open, named by number."""
    return None if code is None else f"custom_{code}"


def _json(response):
    try:
        return response.json()
    except ValueError as e:
        raise Unavailable("freshdesk sent a malformed response (not JSON)", "freshdesk") from e


def _records(data):
    if not isinstance(data, list) or not all(isinstance(item, dict) and "id" in item for item in data):
        raise Unavailable("freshdesk sent a malformed response (expected a list)", "freshdesk")
    return data


def _record(data):
    if not isinstance(data, dict) or "id" not in data:
        raise Unavailable("freshdesk sent a malformed response (expected a record)", "freshdesk")
    return data


@register("freshdesk")
def freshdesk_from_settings(settings, context):
    """A FreshdeskConnector from ASSIST_FRESHDESK_* settings; NotConfigured names whatever is missing."""
    missing = [n for n in ("ASSIST_FRESHDESK_BASE_URL", "ASSIST_FRESHDESK_API_KEY")
               if not (settings.get(n) or "").strip()]
    if missing:
        raise NotConfigured(f"missing {', '.join(missing)}", "freshdesk")
    base_url = settings["ASSIST_FRESHDESK_BASE_URL"].strip()
    if not base_url.startswith(("https://", "http://")):
        raise NotConfigured("ASSIST_FRESHDESK_BASE_URL must start with https://", "freshdesk")
    return FreshdeskConnector(base_url, settings["ASSIST_FRESHDESK_API_KEY"].strip(), region=context.region)
