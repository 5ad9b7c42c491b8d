"""HubSpot: contacts through CRM search, tickets, notes and tasks through associations v4.

One contact lookup is one search call; a contact's tickets (or notes, or tasks)
are the association pages (``paging.next.after``) and then batch reads of 100.
HubSpot throttles with 429 and a ``policyName``; its ``X-HubSpot-RateLimit-*``
headers say how long the window is.

A sync lists every contact with ``GET /crm/v3/objects/contacts`` (cursor
``paging.next.after``), or, with ``since``, searches ``lastmodifieddate GTE
since`` in ``hs_object_id`` order, each page asking for ids above the last one
seen, so the search API's 10,000-result paging cap never applies.
"""

import re
import time

from .base import Activity, Connector, Customer, NotConfigured, Ticket
from .http import DEFAULT_TIMEOUT, HttpClient, retry_after_seconds
from .phones import national_digits, to_e164
from .registry import register, require
from .util import activities_since, cursor_pages, iso_utc, parse_utc, path_segment, plain_text, tickets_since

CONTACT_PROPERTIES = ["firstname", "lastname", "email", "phone", "mobilephone", "company",
                      "lifecyclestage", "hs_lead_status", "lastmodifieddate"]
TICKET_PROPERTIES = ["subject", "content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_priority",
                     "createdate", "hs_lastmodifieddate"]
NOTE_PROPERTIES = ["hs_note_body", "hs_timestamp", "hs_createdate"]
TASK_PROPERTIES = ["hs_task_subject", "hs_task_body", "hs_timestamp", "hs_task_status", "hs_task_type",
                   "hs_createdate"]
# Stage ids of HubSpot's default support pipeline; other pipelines show their raw stage id.
DEFAULT_STAGE_LABELS = {"1": "new", "2": "waiting on contact", "3": "waiting on us", "4": "closed"}
BATCH_LIMIT = 100  # inputs per batch read
LIST_LIMIT = 100  # results per page of a CRM v3 object list
SEARCH_LIMIT = 200  # results per page of a CRM search
ASSOCIATION_LIMIT = 500  # results per associations v4 page
DAILY_LIMIT_WAIT = 3600.0  # the daily quota resets at midnight in the portal's time zone; no header says when
OBJECT_TYPE_IDS = {"contacts": "0-1", "tickets": "0-5"}


def hubspot_throttle(response):
    """429 of any policy is a throttle: wait Retry-After, else the rate-limit window, else back off."""
    if response.status_code != 429:
        return False, None
    wait = retry_after_seconds(response)
    if wait is None and _policy(response) == "DAILY":
        wait = DAILY_LIMIT_WAIT
    interval = response.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds", "")
    if wait is None and interval.isdigit():
        wait = int(interval) / 1000
    return True, wait


def _policy(response):
    try:
        return (response.json() or {}).get("policyName")
    except (ValueError, AttributeError):
        return None


class HubSpotConnector(Connector):
    """Reads HubSpot contacts, their tickets, notes and tasks with a private-app token."""

    name = "hubspot"

    def __init__(self, base_url="https://api.hubapi.com", token=None, region="US", timeout=DEFAULT_TIMEOUT,
                 max_wait=10.0, backoff=0.5, portal_id=None, closed_stages=("4",), retries=3,
                 page_size=ASSOCIATION_LIMIT, app_url="https://app.hubspot.com", sleep=time.sleep):
        if not token:
            raise NotConfigured("missing ASSIST_HUBSPOT_TOKEN", self.name)
        self.region = region
        self.portal_id = portal_id
        self.closed_stages = set(closed_stages)
        self.page_size = min(page_size, ASSOCIATION_LIMIT)
        self.app_url = app_url.rstrip("/")
        self.http = HttpClient(self.name, base_url, headers={"Authorization": f"Bearer {token}"},
                               timeout=timeout, retries=retries, backoff=backoff, max_wait=max_wait,
                               throttle=hubspot_throttle, sleep=sleep)

    # -- contacts -----------------------------------------------------------
    def find_customer(self, email=None, phone=None, customer_id=None):
        """The contact with this id, else this email, else this phone number (or None)."""
        found = None
        if customer_id:
            found = self._contact_by_id(str(customer_id).strip())
        if found is None and email:
            found = self._contact_by_email(email.strip().lower())
        if found is None and phone:
            found = self._contact_by_phone(phone)
        return self._customer(found) if found else None

    def _contact_by_id(self, contact_id):
        if not contact_id.isdigit():
            return None
        return self.http.json("GET", f"/crm/v3/objects/contacts/{contact_id}", allow_404=True,
                              params={"properties": ",".join(CONTACT_PROPERTIES)})

    def _contact_by_email(self, email):
        results = self._search([[{"propertyName": "email", "operator": "EQ", "value": email}]])
        exact = [c for c in results if (c["properties"].get("email") or "").lower() == email]
        return (exact or results or [None])[0]

    def _contact_by_phone(self, phone):
        e164 = to_e164(phone, self.region)
        if e164 is None:
            return None
        # HubSpot matches phones on area code and local number only, so confirm the country here.
        digits = national_digits(e164)
        results = self._search([[{"propertyName": name, "operator": "EQ", "value": digits}]
                                for name in ("phone", "mobilephone")])
        return next((c for c in results if self._has_phone(c, e164, digits)), None)

    def _has_phone(self, contact, e164, digits):
        for name in ("phone", "mobilephone"):
            raw = (contact["properties"].get(name) or "").strip()
            parsed = to_e164(raw, self.region)
            if parsed == e164 or (raw and parsed is None and re.sub(r"\D", "", raw).endswith(digits)):
                return True
        return False

    def _search(self, filter_groups):
        body = {"filterGroups": [{"filters": group} for group in filter_groups],
                "properties": CONTACT_PROPERTIES, "limit": 10}
        return self.http.json("POST", "/crm/v3/objects/contacts/search", json=body).get("results") or []

    def _customer(self, contact):
        props = contact.get("properties") or {}
        name = " ".join(p for p in (props.get("firstname"), props.get("lastname")) if p) or None
        raw_phone = props.get("phone") or props.get("mobilephone")
        return Customer(source=self.name, id=str(contact["id"]), name=name, email=props.get("email"),
                        phone=to_e164(raw_phone, self.region) or raw_phone, company=props.get("company"),
                        tier=props.get("lifecyclestage") or props.get("hs_lead_status"),
                        url=self._record_url("contacts", contact["id"]),
                        updated_at=_iso(props.get("lastmodifieddate") or contact.get("updatedAt")))

    # -- listing for a sync -------------------------------------------------------
    def customer_pages(self, since=None, cursor=None):
        """Every contact (modified since ``since``), a page at a time; the cursor is HubSpot's or the last id."""
        fetch = self._modified_page if since else self._listed_page
        return cursor_pages(lambda after: fetch(after, since), cursor, self.name)

    def _listed_page(self, after, since=None):
        params = {"limit": LIST_LIMIT, "properties": ",".join(CONTACT_PROPERTIES), "archived": "false"}
        if after:
            params["after"] = after
        body = self.http.json("GET", "/crm/v3/objects/contacts", params=params)
        return [self._customer(c) for c in body.get("results") or []], _next_after(body)

    def _modified_page(self, last_id, since):
        """One search page of contacts modified since ``since`` whose ids follow ``last_id``."""
        filters = [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": _epoch_ms(since)}]
        if last_id:
            filters.append({"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)})
        body = self.http.json("POST", "/crm/v3/objects/contacts/search", json={
            "filterGroups": [{"filters": filters}], "properties": CONTACT_PROPERTIES, "limit": SEARCH_LIMIT,
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]})
        contacts = body.get("results") or []
        more = bool(contacts) and _next_after(body) is not None
        return [self._customer(c) for c in contacts], str(contacts[-1]["id"]) if more else None

    def _record_url(self, object_type, object_id):
        if not self.portal_id:
            return None
        return f"{self.app_url}/contacts/{self.portal_id}/record/{OBJECT_TYPE_IDS[object_type]}/{object_id}"

    # -- tickets ------------------------------------------------------------
    def tickets(self, customer, since=None):
        """Every ticket associated with the contact, most recently updated first."""
        return tickets_since([self._ticket(t) for t in self._associated(customer.id, "tickets", TICKET_PROPERTIES)],
                             since)

    def _ticket(self, ticket):
        props = ticket.get("properties") or {}
        stage = props.get("hs_pipeline_stage")
        priority = props.get("hs_ticket_priority")
        return Ticket(source=self.name, id=str(ticket["id"]), subject=props.get("subject"),
                      description=props.get("content"), status=DEFAULT_STAGE_LABELS.get(stage, stage),
                      priority=priority.lower() if priority else None,
                      created_at=_iso(props.get("createdate") or ticket.get("createdAt")),
                      updated_at=_iso(props.get("hs_lastmodifieddate") or ticket.get("updatedAt")),
                      url=self._record_url("tickets", ticket["id"]), is_open=stage not in self.closed_stages)

    # -- notes and tasks ----------------------------------------------------
    def activities(self, customer, since=None):
        """The contact's notes and tasks, newest first; open tasks are kept whatever their age."""
        found = [self._note(n) for n in self._associated(customer.id, "notes", NOTE_PROPERTIES)]
        found += [self._task(t) for t in self._associated(customer.id, "tasks", TASK_PROPERTIES)]
        return activities_since(found, since)

    def _note(self, note):
        props = note.get("properties") or {}
        return Activity(source=self.name, id=str(note["id"]), kind="note",
                        summary=plain_text(props.get("hs_note_body")),
                        at=_iso(props.get("hs_timestamp") or props.get("hs_createdate") or note.get("createdAt")))

    def _task(self, task):
        props = task.get("properties") or {}
        subject, body = props.get("hs_task_subject"), plain_text(props.get("hs_task_body"))
        task_type = (props.get("hs_task_type") or "").lower()
        return Activity(source=self.name, id=str(task["id"]), kind="task",
                        channel=task_type if task_type in ("call", "email") else None,
                        summary=" - ".join(p for p in (subject, body) if p) or None,
                        at=_iso(props.get("hs_createdate") or task.get("createdAt") or props.get("hs_timestamp")),
                        due_at=_iso(props.get("hs_timestamp")), done=props.get("hs_task_status") == "COMPLETED")

    # -- associations and batch reads ---------------------------------------
    def _associated(self, contact_id, object_type, properties):
        """Objects of ``object_type`` associated with the contact: every page, then batch reads."""
        ids = self._association_ids(contact_id, object_type)
        objects = []
        for start in range(0, len(ids), BATCH_LIMIT):
            inputs = [{"id": i} for i in ids[start:start + BATCH_LIMIT]]
            body = self.http.json("POST", f"/crm/v3/objects/{object_type}/batch/read",
                                  json={"properties": properties, "inputs": inputs})
            objects += (body or {}).get("results") or []  # a 207 lists deleted ids under "errors"
        return objects

    def _association_ids(self, contact_id, object_type):
        path = f"/crm/v4/objects/contacts/{path_segment(contact_id)}/associations/{object_type}"
        ids, after, seen = [], None, set()
        while True:
            params = {"limit": self.page_size, **({"after": after} if after else {})}
            body = self.http.json("GET", path, allow_404=True, params=params) or {}
            for result in body.get("results") or []:
                object_id = str(result.get("toObjectId"))
                if object_id not in ids:
                    ids.append(object_id)
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after or after in seen:  # no paging means the last page
                return ids
            seen.add(after)

    def close(self):
        """Close the HTTP session."""
        self.http.close()


def _iso(value):
    """An ISO 8601 UTC string from HubSpot's ISO or epoch-milliseconds values."""
    return iso_utc(value, epoch="ms")


def _epoch_ms(value):
    """A date or time as the epoch milliseconds HubSpot's search compares datetime properties with."""
    when = parse_utc(value)
    if when is None:
        raise ValueError(f"not an ISO 8601 date: {value!r}")
    return str(int(when.timestamp() * 1000))


def _next_after(body):
    """The ``paging.next.after`` cursor of a list or search page; None on the last page."""
    return ((body.get("paging") or {}).get("next") or {}).get("after")


@register("hubspot")
def hubspot_from_settings(settings, context):
    """A HubSpotConnector from ASSIST_HUBSPOT_* settings."""
    (token,) = require(settings, "ASSIST_HUBSPOT_TOKEN")
    portal_id = (settings.get("ASSIST_HUBSPOT_PORTAL_ID") or "").strip() or None
    if portal_id and not portal_id.isdigit():
        raise NotConfigured("ASSIST_HUBSPOT_PORTAL_ID must be the numeric HubSpot account id", "hubspot")
    base_url = (settings.get("ASSIST_HUBSPOT_BASE_URL") or "").strip() or "https://api.hubapi.com"
    if not base_url.startswith(("https://", "http://")):
        raise NotConfigured("ASSIST_HUBSPOT_BASE_URL must start with https://", "hubspot")
    stages = (settings.get("ASSIST_HUBSPOT_CLOSED_STAGES") or "").split(",")
    return HubSpotConnector(base_url=base_url, token=token, region=context.region, portal_id=portal_id,
                            closed_stages=[s.strip() for s in stages if s.strip()] or ("4",),
                            app_url=(settings.get("ASSIST_HUBSPOT_APP_URL") or "").strip()
                            or "https://app.hubspot.com")
