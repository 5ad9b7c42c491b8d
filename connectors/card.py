"""The customer card: one merged view of what every CRM knows, built for the current message.

``merge_records`` folds the records of several connectors into one customer;
``build_card`` adds what depends on the message: whether it repeats an earlier
problem (embedding similarity, not keywords), what is due, and what the
customer already told us.  ``slot_facts`` turns a card into template slots.
"""

import re
from datetime import datetime, timedelta, timezone

import numpy as np

from .facts import extract_facts, is_promise, promised_due

WINDOW_DAYS = 30
# Cosine similarity at or above which a past ticket is "the same problem"
# (all-MiniLM-L6-v2).  Calibrated on 13 message/subject pairs: same-problem
# pairs scored 0.39-0.51 ("my internet is down again" vs "No connection every
# evening": 0.505), unrelated support topics 0.07-0.21.
SAME_PROBLEM = 0.35
CONTACT_KINDS = {"call", "email", "chat", "message"}
RECENT_INTERACTIONS = 10
SUMMARY_CHARS = 160


def parse_time(value):
    """Parse an ISO 8601 string (or datetime) into an aware UTC datetime; None if it cannot."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def iso(value):
    """An aware datetime as an ISO 8601 string with seconds."""
    return value.astimezone(timezone.utc).isoformat(timespec="seconds") if value else None


def _short(text, limit=SUMMARY_CHARS):
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def merge_records(records):
    """Merge per-connector CustomerRecords into one dict: customer, tickets, activities."""
    records = [r for r in records if r is not None]
    if not records:
        return None
    fields = ("name", "email", "phone", "company", "tier")
    customer = {f: next((getattr(r.customer, f) for r in records if getattr(r.customer, f)), None) for f in fields}
    customer["sources"] = sorted({r.customer.source for r in records})
    customer["links"] = [r.customer.url for r in records if r.customer.url]
    tickets = [t.to_dict() for r in records for t in r.tickets]
    activities = [a.to_dict() for r in records for a in r.activities]
    tickets.sort(key=lambda t: t.get("updated_at") or t.get("created_at") or "", reverse=True)
    activities.sort(key=lambda a: a.get("at") or "", reverse=True)
    return {"customer": customer, "tickets": tickets, "activities": activities}


def build_card(merged, now=None, message=None, message_vector=None, embed=None, conversation=None,
               window_days=WINDOW_DAYS, fetched_at=None, stale=False, encode=None):
    """The card the API returns.

    ``embed(texts)`` returns cached unit vectors (ticket texts); ``encode(texts)``
    uncached ones (clauses of the message); ``message_vector`` is the message's.
    """
    now = now or datetime.now(timezone.utc)
    tickets, activities = merged["tickets"], merged["activities"]
    card = {
        "status": "ok",
        "customer": merged["customer"],
        "open_tickets": [_ticket_view(t) for t in tickets if t.get("is_open")],
        "recent_interactions": _interactions(activities),
        "repeat_contact": None,
        "follow_ups_due": follow_ups_due(activities, now),
        "already_told_us": already_told_us(conversation, activities, message, message_vector, embed),
        "stale": bool(stale),
        "fetched_at": iso(parse_time(fetched_at)) or iso(now),
    }
    if message_vector is not None and embed is not None:
        vectors = _message_vectors(message, message_vector, encode)
        card["repeat_contact"] = repeat_contact(tickets, activities, vectors, embed, now, window_days)
    return card


def clauses(message):
    """The message's sentences and clauses of three words or more.

    "My internet dropped AGAIN tonight, this is the third time I'm contacting
    you!" compares with "No connection every evening" at 0.32 as a whole but
    0.56 for its first clause: the framing dilutes the problem.
    """
    parts = re.split(r"[.!?;\n]+|,\s+(?=[a-z])", message or "")
    return [p.strip() for p in parts if len(p.split()) >= 3][:8]


def _message_vectors(message, message_vector, encode):
    """The message's vector, plus one per clause when there are several and an encoder is given."""
    parts = clauses(message)
    if encode is None or len(parts) < 2:
        return np.asarray(message_vector).reshape(1, -1)
    return np.vstack([np.asarray(message_vector).reshape(1, -1), encode(parts)])


def _ticket_view(ticket):
    keys = ("id", "subject", "status", "priority", "created_at", "updated_at", "url", "source")
    return {k: ticket.get(k) for k in keys}


def _interactions(activities):
    items = [a for a in activities if a.get("kind") != "task"][:RECENT_INTERACTIONS]
    return [
        {"at": a.get("at"), "channel": a.get("channel") or a.get("kind"), "summary": _short(a.get("summary")),
         "outcome": a.get("outcome"), "source": a.get("source")}
        for a in items
    ]


def follow_ups_due(activities, now):
    """Open tasks due by the end of today, and promises in notes whose date has come."""
    end_of_today = now.replace(hour=23, minute=59, second=59)
    due = []
    for activity in activities:
        when = _promise_time(activity)
        if when is None or activity.get("done") or when > end_of_today:
            continue
        if activity.get("kind") != "task" and when < now - timedelta(days=14):
            continue  # an old note's promise was most likely kept; tasks say so themselves
        due.append({"due_at": iso(when), "text": _short(activity.get("summary")), "overdue": when < now,
                    "source": activity.get("source")})
    due.sort(key=lambda d: d["due_at"])
    return due


def _promise_time(activity):
    if activity.get("due_at"):
        return parse_time(activity["due_at"])
    if activity.get("kind") == "note" and is_promise(activity.get("summary")):
        written = parse_time(activity.get("at"))
        return promised_due(activity.get("summary"), written) if written else None
    return None


def already_told_us(conversation, activities, message=None, message_vector=None, embed=None):
    """Facts from this conversation's earlier customer messages and from recent notes."""
    facts, seen = [], set()
    earlier = [m["text"] for m in conversation or [] if m.get("role") == "customer"]
    sources = [(text, "conversation") for text in earlier]
    sources += [(a.get("summary"), f"{a.get('kind')}:{a.get('source')}") for a in activities[:20]
                if a.get("kind") in ("note", "call", "chat", "email", "message")]
    for text, source in sources:
        for fact in extract_facts(text, source):
            key = (fact["kind"], re.sub(r"\W", "", fact["value"].lower()))
            if key not in seen:
                seen.add(key)
                facts.append(fact)
    facts += _problem_already_explained(earlier, message_vector, embed)
    return facts


def _problem_already_explained(earlier, message_vector, embed):
    """Earlier messages in this conversation that describe the same problem as the current one."""
    if not earlier or message_vector is None or embed is None:
        return []
    sims = embed(earlier) @ message_vector
    best = int(np.argmax(sims))
    if sims[best] < SAME_PROBLEM:
        return []
    return [{"kind": "problem", "value": _short(earlier[best]), "source": "conversation"}]


def repeat_contact(tickets, activities, message_vectors, embed, now, window_days=WINDOW_DAYS):
    """Is this message about a problem raised before in the window? None, or the repeat summary.

    ``message_vectors`` is the message's vector, or a matrix of it and its
    clauses' vectors: a ticket matches when any of them is close enough.
    """
    since = now - timedelta(days=window_days)
    recent = [t for t in tickets if (parse_time(t.get("created_at")) or now) >= since or t.get("is_open")]
    if not recent:
        return None
    texts = [ticket_text(t) for t in recent]
    sims = (embed(texts) @ np.atleast_2d(message_vectors).T).max(axis=1)
    related = [(float(s), t) for s, t in zip(sims, recent) if s >= SAME_PROBLEM]
    if not related:
        return None
    related.sort(key=lambda pair: (bool(pair[1].get("is_open")), pair[0]), reverse=True)
    contacts = _contacts_about([t for _, t in related], activities, since)
    first = min(contacts) if contacts else now
    top = related[0][1]
    return {
        "count": len(contacts) + 1,
        "since": first.date().isoformat(),
        "window_days": window_days,
        "similarity": round(related[0][0], 3),
        "related_ticket": {k: top.get(k) for k in ("id", "subject", "status", "url", "source", "created_at")},
    }


def ticket_text(ticket):
    """What of a ticket is compared with the message: its subject and the start of its description."""
    return f"{ticket.get('subject') or ''}. {(ticket.get('description') or '')[:200]}".strip(". ")


def _contacts_about(related, activities, since):
    """Times of contacts about the related tickets: each ticket opening, plus later calls/chats/emails on it."""
    times = []
    ids = {(t.get("source"), str(t.get("id"))) for t in related}
    for ticket in related:
        opened = parse_time(ticket.get("created_at"))
        if opened and opened >= since:
            times.append(opened)
    for activity in activities:
        at = parse_time(activity.get("at"))
        if not at or at < since or activity.get("kind") not in CONTACT_KINDS:
            continue
        if (activity.get("source"), str(activity.get("ticket_id"))) not in ids:
            continue
        if any(abs((at - t).total_seconds()) < 600 for t in times):
            continue  # the message that opened the ticket is the same contact
        times.append(at)
    return times


# Subjects that start with what was done to the customer ("Charged twice for my
# bill") read as a noun phrase after "about" only with "being" in front.
PASSIVE_STARTS = {"charged", "overcharged", "double-charged", "billed", "locked", "cut", "disconnected", "refused",
                  "denied", "sent", "left", "kept", "told", "promised", "transferred", "suspended", "blocked",
                  "banned", "cancelled", "canceled", "downgraded", "upgraded", "signed", "moved", "switched"}


def short_issue(subject, limit=60):
    """A ticket subject as a short noun phrase for a sentence ("No connection!!" -> "no connection")."""
    text = " ".join((subject or "").split()).strip(" .!?-:;")
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0]
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    if text and text.split()[0].lower() in PASSIVE_STARTS:
        text = "being " + text
    return text or None


def human_date(value):
    """"2 November" from an ISO date or datetime."""
    when = parse_time(value) if not isinstance(value, str) or "T" in value else parse_time(value + "T00:00:00")
    return f"{when.day} {when:%B}" if when else None


# A word of letters, optionally joined by apostrophes, hyphens or dots
# ("O'Neil", "Jean-Luc", "J."). CRM names are free text that anyone can set, so
# a "name" like "<img src=x>" or "12345" is not spoken to the customer.
_NAME_WORD = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]*)*\.?")


def _first_name(full_name):
    """The first word of a CRM name if it reads as a name, else None."""
    words = str(full_name).split()
    if words and _NAME_WORD.fullmatch(words[0]):
        return words[0]
    return None


def slot_facts(card, agent_name=None, now=None):
    """Template slot values from a card (missing ones are simply absent)."""
    now = now or datetime.now(timezone.utc)
    facts = {"agent_name": agent_name}
    customer = (card or {}).get("customer") or {}
    if customer.get("name"):
        facts["first_name"] = _first_name(customer["name"])
    repeat = (card or {}).get("repeat_contact")
    if repeat:
        ticket = repeat["related_ticket"]
        facts.update(contact_count=repeat["count"], first_contact_date=human_date(repeat["since"]),
                     issue=short_issue(ticket.get("subject")), ticket_id=ticket.get("id"))
        opened = parse_time(ticket.get("created_at"))
        if opened and ticket.get("status") and (now - opened).days >= 2:
            facts["days_open"] = (now - opened).days
    return {k: v for k, v in facts.items() if v not in (None, "")}
