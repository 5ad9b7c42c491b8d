"""Chatwoot (Application API): contacts, their conversations as tickets, and contact notes.

Contact search is a substring match over name, email, phone and identifier, 15
a page, so the exact match is confirmed here.  A contact's conversations (the
newest 20 in the token owner's inboxes) and notes come in one unpaginated call
each.  Chatwoot's Rack::Attack throttle is a bare 429 "Retry later" with no
Retry-After, so the client backs off exponentially.

A sync pages through ``GET /contacts?sort=created_at&page=N`` (15 a page, oldest
first, so contacts added meanwhile land on later pages); ``meta.count`` says
how many there are.  The list has no time filter, so ``since`` is applied here
to each contact's last update or activity.
"""

import time

from .base import Activity, Connector, Customer, NotConfigured, Ticket
from .http import DEFAULT_TIMEOUT, HttpClient, standard_throttle
from .phones import to_e164
from .registry import register, require
from .util import activities_since, cursor_pages, iso_utc, on_or_after, summary, tickets_since

SEARCH_PAGE_SIZE = 15  # Chatwoot's RESULTS_PER_PAGE for contact search and the contact list
MAX_SEARCH_PAGES = 10  # a common substring (say "@gmail.com") must not page through the whole account
OPEN_STATUSES = {"open", "pending", "snoozed"}
SUBJECT_CHARS = 120
CHANNELS = {"webwidget": "chat", "email": "email", "whatsapp": "whatsapp", "sms": "sms", "twiliosms": "sms",
            "api": "api", "facebookpage": "facebook", "instagram": "instagram", "telegram": "telegram",
            "line": "line", "voice": "call"}


class ChatwootConnector(Connector):
    """Reads one Chatwoot account's contacts, conversations and contact notes."""

    name = "chatwoot"

    def __init__(self, base_url, account_id, token, region="US", timeout=DEFAULT_TIMEOUT, max_wait=10.0,
                 backoff=0.5, retries=3, max_search_pages=MAX_SEARCH_PAGES, sleep=time.sleep):
        self.app_url = base_url.rstrip("/")
        self.account_id = str(account_id)
        self.region = region
        self.max_search_pages = max_search_pages
        self.http = HttpClient(self.name, f"{self.app_url}/api/v1/accounts/{self.account_id}",
                               headers={"api_access_token": token}, timeout=timeout, retries=retries,
                               backoff=backoff, max_wait=max_wait, throttle=standard_throttle, sleep=sleep)

    # -- contacts -----------------------------------------------------------
    def find_customer(self, email=None, phone=None, customer_id=None):
        """The contact with this id, else this email, else this phone number (or None)."""
        found = None
        if customer_id:
            found = self._contact_by_id(str(customer_id).strip())
        if found is None and email:
            email = email.strip().lower()
            found = self._search(email, lambda c: (c.get("email") or "").strip().lower() == email)
        if found is None and phone:
            e164 = to_e164(phone, self.region)
            if e164:  # Chatwoot stores E.164, so search with the leading "+"
                found = self._search(e164, lambda c: to_e164(c.get("phone_number"), self.region) == e164)
        return self._customer(found) if found else None

    def _contact_by_id(self, contact_id):
        if not contact_id.isdigit():
            return None
        body = self.http.json("GET", f"/contacts/{contact_id}", allow_404=True)
        return (body or {}).get("payload")

    def _search(self, query, is_match):
        """The first contact on the search pages that ``is_match`` confirms."""
        for page in range(1, self.max_search_pages + 1):
            body = self.http.json("GET", "/contacts/search", params={"q": query, "page": page}) or {}
            contacts = body.get("payload") or []
            found = next((c for c in contacts if is_match(c)), None)
            if found or len(contacts) < SEARCH_PAGE_SIZE or (body.get("meta") or {}).get("has_more") is False:
                return found
        return None

    def _customer(self, contact):
        attributes = contact.get("additional_attributes") or {}
        custom = contact.get("custom_attributes") or {}
        raw_phone = contact.get("phone_number")
        return Customer(source=self.name, id=str(contact["id"]), name=contact.get("name") or None,
                        email=contact.get("email"), phone=to_e164(raw_phone, self.region) or raw_phone,
                        company=attributes.get("company_name") or None, tier=custom.get("tier") or None,
                        url=f"{self.app_url}/app/accounts/{self.account_id}/contacts/{contact['id']}",
                        updated_at=_iso(contact.get("updated_at") or contact.get("last_activity_at")))

    # -- listing for a sync -----------------------------------------------------
    def customer_pages(self, since=None, cursor=None):
        """Every contact (updated or active since ``since``), a page at a time; the cursor is the next page."""
        return cursor_pages(lambda page: self._contact_page(int(page or 1), iso_utc(since)), cursor, self.name)

    def _contact_page(self, page, since):
        """One page of the contact list, oldest first, leaving out contacts known to be unchanged since ``since``."""
        body = self.http.json("GET", "/contacts", params={"sort": "created_at", "page": page}) or {}
        contacts = [self._customer(c) for c in body.get("payload") or []]
        changed = [c for c in contacts if not c.updated_at or on_or_after(c.updated_at, since)]
        return changed, page + 1 if _more_contacts(body, page) else None

    # -- conversations and notes --------------------------------------------
    def tickets(self, customer, since=None):
        """The contact's conversations (Chatwoot returns the newest 20), most recently active first."""
        if not str(customer.id).isdigit():
            return []
        body = self.http.json("GET", f"/contacts/{customer.id}/conversations", allow_404=True) or {}
        return tickets_since([self._ticket(c) for c in body.get("payload") or []], since)

    def _ticket(self, conversation):
        status = conversation.get("status")
        text = _message_text(conversation)
        subject = (conversation.get("additional_attributes") or {}).get("mail_subject") or _subject(text)
        channel = ((conversation.get("meta") or {}).get("channel") or "").removeprefix("Channel::").lower()
        return Ticket(source=self.name, id=str(conversation["id"]), subject=subject, description=text,
                      status=status, priority=conversation.get("priority"),
                      created_at=_iso(conversation.get("created_at")),
                      updated_at=_iso(conversation.get("last_activity_at") or conversation.get("timestamp")),
                      url=f"{self.app_url}/app/accounts/{self.account_id}/conversations/{conversation['id']}",
                      is_open=status in OPEN_STATUSES, channel=CHANNELS.get(channel, channel or None))

    def activities(self, customer, since=None):
        """The contact's notes, newest first."""
        if not str(customer.id).isdigit():
            return []
        notes = self.http.json("GET", f"/contacts/{customer.id}/notes", allow_404=True) or []
        found = [Activity(source=self.name, id=str(n["id"]), at=_iso(n.get("created_at")), kind="note",
                          summary=(n.get("content") or "").strip() or None) for n in notes]
        return activities_since(found, since)

    def close(self):
        """Close the HTTP session."""
        self.http.close()


def _message_text(conversation):
    """The text the conversation shows in the list: its last real message."""
    candidates = [conversation.get("last_non_activity_message")] + list(conversation.get("messages") or [])
    for message in candidates:
        if message and message.get("message_type") != 2 and (message.get("content") or "").strip():
            return message["content"].strip()
    return None


def _more_contacts(body, page):
    """Whether the contact list goes on after ``page``; ``meta.count`` is how many there are in all."""
    shown = len(body.get("payload") or [])
    count = str((body.get("meta") or {}).get("count"))
    if not shown:
        return False
    return (page - 1) * SEARCH_PAGE_SIZE + shown < int(count) if count.isdigit() else shown == SEARCH_PAGE_SIZE


def _subject(text):
    """A conversation's subject: the first line of its text, shortened."""
    return summary(text.splitlines()[0], SUBJECT_CHARS) if text else None


def _iso(value):
    """An ISO 8601 UTC string from Chatwoot's unix seconds (or an ISO string)."""
    return iso_utc(value, epoch="s")


@register("chatwoot")
def chatwoot_from_settings(settings, context):
    """A ChatwootConnector from ASSIST_CHATWOOT_* settings."""
    base_url, account_id, token = require(settings, "ASSIST_CHATWOOT_BASE_URL", "ASSIST_CHATWOOT_ACCOUNT_ID",
                                          "ASSIST_CHATWOOT_API_TOKEN")
    if not base_url.startswith(("https://", "http://")):
        raise NotConfigured("ASSIST_CHATWOOT_BASE_URL must start with https://", "chatwoot")
    if not account_id.isdigit():
        raise NotConfigured("ASSIST_CHATWOOT_ACCOUNT_ID must be the numeric account id", "chatwoot")
    return ChatwootConnector(base_url, account_id, token, region=context.region)
