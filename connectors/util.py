"""Small helpers the CRM connectors share: vendor times as ISO UTC, plain short text,
newest-first lists, safe URL pieces and cursor-paged listings.
"""

import html
import re
from datetime import datetime, timezone
from urllib.parse import quote

from .base import CustomerRecord, Unavailable

SUMMARY_CHARS = 280
TIER_FIELDS = ("tier", "support_tier", "customer_tier", "plan", "sla")


# -- times ----------------------------------------------------------------------
def parse_utc(value, epoch=None):
    """An aware UTC datetime from a datetime, an ISO 8601 string or (with ``epoch`` "s" or "ms") a unix time.

    Naive values are taken as UTC; empty, zero or unparsable values give None.
    """
    if not value:
        return None
    try:
        if isinstance(value, datetime):
            when = value
        elif epoch and (isinstance(value, (int, float)) or str(value).strip().isdigit()):
            when = datetime.fromtimestamp(int(value) / (1000 if epoch == "ms" else 1), timezone.utc)
        else:
            when = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def iso_utc(value, epoch=None):
    """``value`` as an ISO 8601 UTC string with seconds ("2026-11-02T09:15:00+00:00"), or None."""
    when = parse_utc(value, epoch)
    return when.replace(microsecond=0).isoformat() if when else None


def on_or_after(when, since):
    """True when there is no ``since``, or the ISO time ``when`` is not before it."""
    return not since or (when or "") >= since


def newest_first(items, key):
    """``items`` sorted by the ISO time ``key(item)``, newest first (items without one last)."""
    return sorted(items, key=lambda item: key(item) or "", reverse=True)


def ticket_time(ticket):
    """When a ticket last changed: its update time, else its creation time."""
    return ticket.updated_at or ticket.created_at


def tickets_since(tickets, since=None):
    """Tickets changed at or after ``since`` (any ISO form), most recently changed first."""
    since = iso_utc(since)
    return newest_first([t for t in tickets if on_or_after(ticket_time(t), since)], ticket_time)


def activities_since(activities, since=None):
    """Activities at or after ``since``, plus open tasks whatever their age, newest first."""
    since = iso_utc(since)
    kept = [a for a in activities if on_or_after(a.at, since) or (a.due_at and not a.done)]
    return newest_first(kept, lambda a: a.at)


class ActivitiesFromTickets:
    """For CRMs whose activities are the comments on a customer's tickets (Zendesk, Freshdesk).

    The connector implements ``_activities(tickets, since)``; a record lists the tickets only once.
    """

    def activities(self, customer, since=None):
        """Comments and notes on the customer's most recent tickets, newest first."""
        return self._activities(self.tickets(customer, since), iso_utc(since))

    def find_customer(self, email=None, phone=None, customer_id=None):
        """The customer with this id, else email, else phone (None if there is none).

        Subclasses supply ``_by_id``, ``_by_email`` and ``_by_phone``.
        """
        if customer_id:
            return self._by_id(customer_id)
        if email:
            return self._by_email(email)
        if phone:
            return self._by_phone(phone)
        return None

    def record(self, email=None, phone=None, customer_id=None, since=None):
        """Customer, tickets and the comments on them, listing the tickets only once."""
        customer = self.find_customer(email=email, phone=phone, customer_id=customer_id)
        if customer is None:
            return None
        tickets = self.tickets(customer, since)
        return CustomerRecord(customer, tickets, self._activities(tickets, iso_utc(since)))


# -- text -----------------------------------------------------------------------
def plain_text(body):
    """Plain text from rich text (HTML): tags dropped, entities decoded, spaces collapsed; None if empty."""
    if not body:
        return None
    text = html.unescape(re.sub(r"<[^>]*>", " ", str(body)))
    return " ".join(text.split()) or None


def summary(text, limit=SUMMARY_CHARS):
    """``text`` on one line, cut to ``limit`` characters with an ellipsis; None if empty."""
    text = " ".join((text or "").split())
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def tier_from(fields, tags):
    """A support tier from custom fields (tier, plan, sla, ...) or tags ("vip", "tier_gold")."""
    fields = fields or {}
    for name in TIER_FIELDS:
        if fields.get(name) not in (None, ""):
            return str(fields[name])
    for tag in map(str, tags or []):
        if tag.lower() == "vip":
            return "vip"
        if tag.lower().startswith(("tier_", "tier-")):
            return tag[5:]
    return None


# -- URLs and paging ------------------------------------------------------------------
def path_segment(record_id):
    """An id made safe to put in a URL path (ids come back to us from callers)."""
    return quote(str(record_id), safe="")


def site_root(base_url):
    """``https://acme.example.com`` from a base URL given with or without ``/api/v2``."""
    root = base_url.strip().rstrip("/")
    return root[: -len("/api/v2")] if root.endswith("/api/v2") else root


def cursor_pages(fetch, cursor, connector):
    """Yield ``fetch(cursor) -> (items, next_cursor)`` pages until ``next_cursor`` is None.

    A CRM handing back a cursor it already gave would page forever; that is a
    malformed response.
    """
    seen = {repr(cursor)}
    while True:
        items, cursor = fetch(cursor)
        yield items, cursor
        if cursor is None:
            return
        key = repr(cursor)
        if key in seen:
            raise Unavailable(f"{connector} repeated a page cursor", connector)
        seen.add(key)
