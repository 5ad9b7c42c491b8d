"""Facts a customer has already given us, and promised follow-ups, found in free text.

Pure functions over strings and datetimes, so they are easy to test and safe on
attacker-controlled CRM text (bounded regexes, no evaluation).
"""

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from .phones import find_phones

MAX_SCAN_CHARS = 5000

_IS = r"\s*(?:is|was|:|#)?\s*[:#]?\s*"  # "account number is 123", "order #123", "ref: 123"
_FACT_PATTERNS = (
    ("order_number", re.compile(r"\border\s*(?:number|no\.?|#|num|id|ref(?:erence)?)?" + _IS + r"([A-Z]{0,4}-?\d[\dA-Z-]{3,19})\b", re.I)),
    ("account_number", re.compile(r"\baccount\s*(?:number|no\.?|#|num|id)?" + _IS + r"([A-Z]{0,4}-?\d[\d-]{3,19})\b", re.I)),
    ("reference", re.compile(r"\b(?:ticket|case|reference|ref|booking|confirmation|claim)\s*(?:number|no\.?|#|code)?" + _IS + r"([A-Z]{0,6}-?\d[\dA-Z-]{2,19})\b", re.I)),
    ("tracking_number", re.compile(r"\btracking\s*(?:number|no\.?|#|code|id)?" + _IS + r"([A-Z0-9]{8,30})\b", re.I)),
    ("email", re.compile(r"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}\b")),
    ("address", re.compile(
        r"\b\d{1,5}[A-Za-z]?\s+(?:[A-Z][a-z]+\s){1,4}(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Way|Court|Ct"
        r"|Place|Pl|Boulevard|Blvd|Terrace|Crescent|Gardens|Square|Highway|Hwy)\b\.?(?:,?\s+[A-Z][a-z]+){0,2}"
        r"(?:,?\s+(?:[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}|\d{5}(?:-\d{4})?))?")),
    ("date", re.compile(
        r"\b(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*(?:\s+\d{4})?"
        r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?"
        r"|\d{4}-\d{2}-\d{2})\b", re.I)),
)


def extract_facts(text, source):
    """Return [{"kind", "value", "source"}] for identifiers, addresses and dates in ``text``."""
    return [{"kind": kind, "value": value, "source": source} for kind, value in _facts_in((text or "")[:MAX_SCAN_CHARS])]


@lru_cache(maxsize=8192)
def _facts_in(text):
    """(kind, value) pairs in a text; cached because the same notes are read on every card."""
    return tuple((f["kind"], f["value"]) for f in _scan(text, None))


def _scan(text, source):
    facts, seen = [], set()
    for kind, pattern in _FACT_PATTERNS:
        for match in pattern.finditer(text):
            value = (match.group(1) if match.groups() else match.group(0)).strip(" .,")
            if kind in ("order_number", "account_number", "reference") and not re.search(r"\d{3,}", value):
                continue
            _add(facts, seen, kind, value, source)
    taken = " ".join(re.sub(r"\D", "", f["value"]) for f in facts)
    for phone in find_phones(text):
        if phone[-7:] not in taken:  # digits inside an order or tracking number are not a phone
            _add(facts, seen, "phone", phone, source)
    return facts


def _add(facts, seen, kind, value, source):
    key = re.sub(r"\W", "", value.lower())
    if key and key not in seen:
        seen.add(key)
        facts.append({"kind": kind, "value": value, "source": source})


# -- promised follow-ups in notes ------------------------------------------------

_PROMISE = re.compile(
    r"\b(call(?:ed)?\s*back|callback|ring (?:her|him|them|back)|follow(?:\s|-)?up|get back to|promised|will (?:call|email|"
    r"update|check|confirm|send|refund|chase)|chase|update (?:her|him|them|the customer))\b",
    re.I,
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_RELATIVE = re.compile(r"\b(?:within|in)\s+(\d{1,3})\s*(hour|hr|day|business day|working day|week)s?\b", re.I)
_WEEKDAY = re.compile(r"\b(?:by|on|this|next)?\s*(" + "|".join(_WEEKDAYS) + r")\b", re.I)
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(" + "|".join(_MONTHS) + r")[a-z]*\b", re.I)
_MONTH_DAY = re.compile(r"\b(" + "|".join(_MONTHS) + r")[a-z]*\s+(\d{1,2})(?:st|nd|rd|th)?\b", re.I)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def is_promise(text):
    """True when a note records something we promised to do."""
    return bool(_PROMISE.search(text or ""))


def promised_due(text, written_at):
    """When a promise in ``text`` (written at ``written_at``) falls due, or None if no date is said.

    Understands "today", "tomorrow", "within 48 hours", "in 3 days", weekdays
    ("by Friday" = the next Friday after the note), "12 Nov", "Nov 12" and ISO dates.
    """
    text = (text or "")[:MAX_SCAN_CHARS]
    lowered = text.lower()
    if "today" in lowered or "end of day" in lowered or "eod" in lowered.split():
        return written_at.replace(hour=23, minute=59, second=0, microsecond=0)
    if "tomorrow" in lowered:
        return (written_at + timedelta(days=1)).replace(hour=23, minute=59, second=0, microsecond=0)
    match = _RELATIVE.search(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        delta = {"hour": timedelta(hours=amount), "hr": timedelta(hours=amount), "week": timedelta(weeks=amount)}
        return written_at + delta.get(unit, timedelta(days=amount))
    return _calendar_due(text, written_at)


def _calendar_due(text, written_at):
    match = _ISO.search(text)
    if match:
        return _safe_date(int(match.group(1)), int(match.group(2)), int(match.group(3)), written_at)
    match = _DAY_MONTH.search(text) or _MONTH_DAY.search(text)
    if match:
        day, month = (match.group(1), match.group(2)) if match.re is _DAY_MONTH else (match.group(2), match.group(1))
        due = _safe_date(written_at.year, _MONTHS.index(month.lower()[:3]) + 1, int(day), written_at)
        if due and due < written_at - timedelta(days=60):  # "3 Jan" written in December means next year
            due = _safe_date(written_at.year + 1, due.month, due.day, written_at)
        return due
    match = _WEEKDAY.search(text)
    if match:
        ahead = (_WEEKDAYS.index(match.group(1).lower()) - written_at.weekday()) % 7 or 7
        return (written_at + timedelta(days=ahead)).replace(hour=23, minute=59, second=0, microsecond=0)
    return None


def _safe_date(year, month, day, written_at):
    try:
        return datetime(year, month, day, 23, 59, tzinfo=written_at.tzinfo or timezone.utc)
    except ValueError:
        return None
