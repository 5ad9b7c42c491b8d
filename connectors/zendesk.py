"""Zendesk Support: users, the tickets they requested, and the comments on their recent tickets.

API token auth (``{email}/token:{api_token}``), cursor pagination (``page[size]``,
``meta.has_more``, ``meta.after_cursor``) and 429 + Retry-After throttling, as
documented at developer.zendesk.com; see docs/connectors/zendesk.md.

A sync lists end users with ``GET /api/v2/users?role=end-user`` (cursor
pagination, open to agents), or, with ``since``, the cursor-based incremental
user export ``GET /api/v2/incremental/users/cursor?start_time=`` (admins only,
10 requests a minute, stop at ``end_of_stream``).
"""

import logging
import re
import time

from .base import Activity, AuthFailed, Connector, Customer, NotConfigured, Ticket, Unavailable
from .http import DEFAULT_TIMEOUT, HttpClient
from .phones import national_digits, to_e164
from .registry import register
from .util import (
    ActivitiesFromTickets,
    activities_since,
    cursor_pages,
    iso_utc,
    parse_utc,
    path_segment,
    site_root,
    summary,
    tickets_since,
    tier_from,
)

log = logging.getLogger(__name__)

OPEN_STATUSES = {"new", "open", "pending", "hold"}
SUBDOMAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")


class ZendeskConnector(ActivitiesFromTickets, Connector):
    """Read-only Zendesk Support connector.

    ``comment_tickets`` bounds how many of the most recent tickets have their
    comments read; ``max_pages`` bounds every paginated listing.
    """

    name = "zendesk"

    def __init__(self, base_url, email, api_token, region="US", timeout=DEFAULT_TIMEOUT, max_wait=10.0,
                 backoff=0.5, page_size=100, comment_tickets=5, max_pages=20, sleep=time.sleep):
        self.base_url = site_root(base_url)
        self.region = region
        self.page_size = page_size
        self.comment_tickets = comment_tickets
        self.max_pages = max_pages
        self.http = HttpClient(self.name, self.base_url, auth=(f"{email}/token", api_token), timeout=timeout,
                               max_wait=max_wait, backoff=backoff, sleep=sleep)

    # -- customers ------------------------------------------------------------

    def _by_id(self, user_id):
        user_id = str(user_id).strip()
        if not user_id.isdigit():
            return None
        data = self.http.json("GET", f"/api/v2/users/{user_id}.json", allow_404=True)
        return None if data is None else self._customer(_field(data, "user", dict))

    def _by_email(self, email):
        email = email.strip()
        if "@" not in email or any(c.isspace() or c == '"' for c in email):
            return None
        data = self.http.json("GET", "/api/v2/users/search.json", params={"query": f"email:{email}"})
        # Search matches loosely; only an exact primary email counts as this customer.
        for user in _field(data, "users", list):
            if (user.get("email") or "").lower() == email.lower():
                return self._customer(user)
        return None

    def _by_phone(self, phone):
        e164 = to_e164(phone, self.region)
        if not e164:
            return None
        # Zendesk's documented caller lookup: digits only, leading * matches any stored format.
        query = f"type:user phone:*{national_digits(e164)}"
        data = self.http.json("GET", "/api/v2/search.json", params={"query": query})
        for result in _field(data, "results", list):
            if result.get("result_type", "user") == "user" and to_e164(result.get("phone"), self.region) == e164:
                return self._customer(result)
        return None

    def _customer(self, user):
        return Customer(
            source=self.name, id=str(user["id"]), name=user.get("name"), email=user.get("email"),
            phone=to_e164(user.get("phone"), self.region) or user.get("phone"),
            company=self._organization_name(user.get("organization_id")),
            tier=tier_from(user.get("user_fields"), user.get("tags")),
            url=f"{self.base_url}/agent/users/{user['id']}", updated_at=iso_utc(user.get("updated_at")),
        )

    # -- listing for a sync -----------------------------------------------------
    def customer_pages(self, since=None, cursor=None):
        """Every end user (updated since ``since``), a page at a time; the cursor is Zendesk's after_cursor."""
        fetch = self._exported_page if since else self._listed_page
        return cursor_pages(lambda after: fetch(after, since), cursor, self.name)

    def _listed_page(self, after, since=None):
        params = {"role": "end-user", "page[size]": self.page_size, **({"page[after]": after} if after else {})}
        data = self.http.json("GET", "/api/v2/users.json", params=params)
        meta = (data.get("meta") or {}) if isinstance(data, dict) else {}
        users = [self._customer(u) for u in _field(data, "users", list)]
        return users, meta.get("after_cursor") if meta.get("has_more") else None

    def _exported_page(self, after, since):
        """One page of the incremental export: users of any role changed since ``since``; end users kept."""
        params = {"cursor": after} if after else {"start_time": int(parse_utc(since).timestamp())}
        try:
            data = self.http.json("GET", "/api/v2/incremental/users/cursor.json",
                                  params={**params, "per_page": self.page_size})
        except AuthFailed as e:
            if getattr(e, "status_code", None) != 403:
                raise
            raise AuthFailed("zendesk: a sync with a since date uses the incremental user export, which needs "
                             "an admin's API token", self.name) from e
        users = [self._customer(u) for u in _field(data, "users", list)
                 if u.get("role", "end-user") == "end-user" and u.get("active", True)]
        return users, None if data.get("end_of_stream", True) else data.get("after_cursor")

    def _organization_name(self, organization_id):
        if not organization_id:
            return None
        data = self.http.json("GET", f"/api/v2/organizations/{path_segment(organization_id)}.json",
                              allow_404=True)
        return None if data is None else _field(data, "organization", dict).get("name")

    # -- tickets and comments ---------------------------------------------------
    def tickets(self, customer, since=None):
        """Tickets the user requested (all pages), newest first, updated at or after ``since``."""
        rows = self._cursor(f"/api/v2/users/{path_segment(customer.id)}/tickets/requested.json", "tickets")
        return tickets_since([self._ticket(row) for row in rows], since)

    def _activities(self, tickets, since):
        found = []
        for ticket in tickets[: self.comment_tickets]:
            rows = self._cursor(f"/api/v2/tickets/{path_segment(ticket.id)}/comments.json", "comments",
                                params={"sort": "-created_at"}, stop=_older_than(since))
            found += [_activity(row, ticket.id) for row in rows]
        return activities_since(found, since)

    def _ticket(self, row):
        status = row.get("status")
        return Ticket(
            source=self.name, id=str(row["id"]), subject=row.get("subject") or row.get("raw_subject"),
            description=row.get("description"), status=status, priority=row.get("priority"),
            created_at=iso_utc(row.get("created_at")), updated_at=iso_utc(row.get("updated_at")),
            url=f"{self.base_url}/agent/tickets/{row['id']}", is_open=status in OPEN_STATUSES,
            channel=(row.get("via") or {}).get("channel"),
        )

    def _cursor(self, path, key, params=None, stop=None):
        """Every item of a cursor-paginated list; stops when ``meta.has_more`` is false."""
        params = {**(params or {}), "page[size]": self.page_size}
        items = []
        for _ in range(self.max_pages):
            data = self.http.json("GET", path, allow_404=True, params=params)
            if data is None:  # the user or ticket went away meanwhile
                return items
            page = _field(data, key, list)
            items += page
            meta = data.get("meta") or {}
            if not meta.get("has_more") or not meta.get("after_cursor") or (stop and stop(page)):
                return items
            params = {**params, "page[after]": meta["after_cursor"]}
        log.warning("zendesk %s: stopped after %d pages", path, self.max_pages)
        return items

    def close(self):
        """Close the HTTP session."""
        self.http.close()


def _activity(comment, ticket_id):
    public = comment.get("public", True)
    kind = "call" if comment.get("type") == "VoiceComment" else ("comment" if public else "note")
    return Activity(
        source="zendesk", id=str(comment["id"]), at=iso_utc(comment.get("created_at")), kind=kind,
        channel=(comment.get("via") or {}).get("channel"),
        summary=summary(comment.get("plain_body") or comment.get("body")), ticket_id=str(ticket_id),
    )


def _field(data, key, kind):
    """``data[key]``: a record or a list of records with ids; anything else is a malformed response."""
    value = data.get(key) if isinstance(data, dict) else None
    records = value if isinstance(value, list) else [value]
    if not isinstance(value, kind) or not all(isinstance(r, dict) and "id" in r for r in records):
        raise Unavailable(f"zendesk sent a malformed response (no {key})", "zendesk")
    return value


def _older_than(since):
    """A page test for newest-first comments: stop paging once a page reaches before ``since``."""
    if not since:
        return None
    return lambda page: any((iso_utc(row.get("created_at")) or "") < since for row in page)


def base_url_from_settings(settings):
    """The site root from ASSIST_ZENDESK_BASE_URL, or https://{ASSIST_ZENDESK_SUBDOMAIN}.zendesk.com."""
    base = (settings.get("ASSIST_ZENDESK_BASE_URL") or "").strip()
    subdomain = (settings.get("ASSIST_ZENDESK_SUBDOMAIN") or "").strip()
    if base:
        if not base.startswith(("https://", "http://")):
            raise NotConfigured("ASSIST_ZENDESK_BASE_URL must start with https://", "zendesk")
        return site_root(base)
    if not SUBDOMAIN.fullmatch(subdomain):
        raise NotConfigured("ASSIST_ZENDESK_SUBDOMAIN must be the bare subdomain, e.g. acme", "zendesk")
    return f"https://{subdomain.lower()}.zendesk.com"


@register("zendesk")
def zendesk_from_settings(settings, context):
    """A ZendeskConnector from ASSIST_ZENDESK_* settings; NotConfigured names whatever is missing."""
    given = {name for name, value in settings.items() if (value or "").strip()}
    missing = [] if given & {"ASSIST_ZENDESK_BASE_URL", "ASSIST_ZENDESK_SUBDOMAIN"} \
        else ["ASSIST_ZENDESK_BASE_URL (or ASSIST_ZENDESK_SUBDOMAIN)"]
    missing += [n for n in ("ASSIST_ZENDESK_EMAIL", "ASSIST_ZENDESK_API_TOKEN") if n not in given]
    if missing:
        raise NotConfigured(f"missing {', '.join(missing)}", "zendesk")
    return ZendeskConnector(base_url_from_settings(settings), settings["ASSIST_ZENDESK_EMAIL"].strip(),
                            settings["ASSIST_ZENDESK_API_TOKEN"].strip(), region=context.region)
