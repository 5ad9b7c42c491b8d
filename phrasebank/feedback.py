"""Agent feedback on suggestions: durable, idempotent storage and the analytics over it.

Every event is one row in ``feedback_events``, unique on (request_id,
phrase_id, event) so a sidebar retrying a POST never counts twice.  Each row
keeps the hash of the phrase's wording at event time: analytics count a
phrase by id across its edits, while ranking (``learning.py``) counts only its
current wording, so an edited phrase starts fresh.  ``feedback_counts`` keeps
running totals per (phrase, wording) in the same transaction, so ranking reads
a few hundred rows instead of every event.
"""

import re
from datetime import date, datetime, timedelta, timezone

from sqlite_utils import Migrations

from . import phrases
from .db import write_transaction
from .errors import PhraseBankError

EVENTS = ("shown", "copied", "inserted", "thumbs_up", "thumbs_down")
POSITIVE = ("copied", "inserted", "thumbs_up")
EVENT_FIELDS = ("request_id", "phrase_id", "event")
MAX_BATCH = 200
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
BUCKETS = ("day", "week")
DEFAULT_DAYS = 30
MAX_DAYS = 3660  # ten years of daily points is still a small answer
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

migrations = Migrations("feedback")


@migrations(name="0001_feedback")
def _feedback(db):
    db["feedback_events"].create(
        {"id": int, "request_id": str, "phrase_id": str, "event": str, "content_hash": str, "agent": str,
         "created_at": str},
        pk="id",
        not_null=("request_id", "phrase_id", "event", "content_hash", "created_at"),
    )
    db["feedback_events"].create_index(["request_id", "phrase_id", "event"], unique=True)
    # Analytics group by (phrase, event) and by (UTC day, event) within a period: with these
    # indexes both read rows already in group order instead of sorting 100k rows.
    db["feedback_events"].create_index(["phrase_id", "event", "created_at"])
    db.execute("create index idx_feedback_events_day_event on feedback_events (substr(created_at, 1, 10), event)")
    counts = {name: int for name in (*EVENTS, "accepted")}
    db["feedback_counts"].create(
        {"phrase_id": str, "content_hash": str, **counts},
        pk=("phrase_id", "content_hash"),
        defaults={name: 0 for name in counts},
        not_null=tuple(counts),
    )
    db.execute("insert or ignore into meta (key, value) values ('feedback_revision', '0')")


class InvalidFeedback(PhraseBankError):
    """A feedback event or analytics query is invalid; ``field`` names what is wrong."""

    def __init__(self, message, field, code="invalid"):
        super().__init__(message, field=field)
        self.code = code


def wording_hash(phrase):
    """Hash of what an agent sees of a phrase (text and fallback): an edit changes it."""
    # content_hash namespaces by its first argument; "wording" keeps these apart from embedding keys.
    return phrases.content_hash("wording", f"{phrase['text']}\n{phrase.get('fallback') or ''}")


def _as_events(body):
    """The list of raw events in a body, each with the prefix its fields are named by."""
    if isinstance(body, dict) and "events" in body:
        extra = sorted(set(body) - {"events"})
        if extra:
            raise InvalidFeedback(f"Unknown field {extra[0]!r} next to events.", extra[0])
        items = body["events"]
    elif isinstance(body, list):
        items = body
    else:
        return [(body, "")]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise InvalidFeedback(f"events must be a list of 1 to {MAX_BATCH} events.", "events")
    return [(item, f"events[{i}].") for i, item in enumerate(items)]


def _check_event(event, prefix):
    if not isinstance(event, dict):
        raise InvalidFeedback("Each event must be an object.", prefix.rstrip(".") or "body", "wrong_type")
    for name in event:
        if name not in EVENT_FIELDS:
            raise InvalidFeedback(f"Unknown field {prefix + name!r}; expected: {', '.join(EVENT_FIELDS)}.",
                                  prefix + name)
    for name in EVENT_FIELDS:
        if event.get(name) is None:
            raise InvalidFeedback(f"{prefix}{name} is required.", prefix + name, "missing")
        if not isinstance(event[name], str):
            raise InvalidFeedback(f"{prefix}{name} must be a string.", prefix + name, "wrong_type")
    if not REQUEST_ID.fullmatch(event["request_id"]):
        raise InvalidFeedback("request_id must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'.",
                              prefix + "request_id")
    if event["event"] not in EVENTS:
        raise InvalidFeedback(f"event must be one of: {', '.join(EVENTS)}.", prefix + "event", "invalid_choice")
    return {name: event[name] for name in EVENT_FIELDS}


def _wordings(db, clean):
    """{phrase_id: wording hash} of the events' phrases (any status); 400 naming the first unknown one."""
    found = {}
    ids = sorted({event["phrase_id"] for event, _ in clean})
    for start in range(0, len(ids), 500):  # stay under SQLite's parameter limit
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(f"select id, text, fallback from phrases where id in ({marks})", chunk):
            found[row[0]] = wording_hash({"text": row[1], "fallback": row[2]})
    for event, prefix in clean:
        if event["phrase_id"] not in found:
            raise InvalidFeedback(f"No phrase with id {event['phrase_id']!r}.", prefix + "phrase_id", "unknown_phrase")
    return found


def _timestamp(now):
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(timezone.utc).isoformat(timespec="seconds")


def record(db, events, agent, now=None):
    """Validate and store feedback: one event, ``{"events": [...]}`` or a list. All or nothing.

    Returns ``{"recorded": n, "duplicates": m}``; an event already stored (same
    request_id, phrase_id and event) counts as a duplicate and changes nothing.
    ``agent`` is the name of the token that sent it; ``now`` (UTC) is for replays.
    """
    clean = [(_check_event(event, prefix), prefix) for event, prefix in _as_events(events)]
    stamp = _timestamp(now)
    recorded = 0
    with write_transaction(db):  # read the wordings under the write lock: no edit can slip in between
        wordings = _wordings(db, clean)
        for event, _ in clean:
            recorded += _store(db, event, wordings[event["phrase_id"]], agent, stamp)
        if recorded:
            db.execute("update meta set value = cast(value as integer) + 1 where key = 'feedback_revision'")
    return {"recorded": recorded, "duplicates": len(clean) - recorded}


def _store(db, event, wording, agent, stamp):
    """Insert one event unless stored already, and update the running counts; returns 1 or 0."""
    cursor = db.execute(
        "insert or ignore into feedback_events (request_id, phrase_id, event, content_hash, agent, created_at)"
        " values (?, ?, ?, ?, ?, ?)",
        [event["request_id"], event["phrase_id"], event["event"], wording, agent, stamp],
    )
    if cursor.rowcount != 1:
        return 0
    accepted = 0
    if event["event"] in POSITIVE:
        # A copy, an insert and a thumbs-up in one request are one acceptance, not three.
        marks = ",".join("?" * len(POSITIVE))
        positives = db.execute(
            f"select count(*) from feedback_events where request_id = ? and phrase_id = ? and event in ({marks})",
            [event["request_id"], event["phrase_id"], *POSITIVE],
        ).fetchone()[0]
        accepted = int(positives == 1)
    column = event["event"]  # one of EVENTS, checked above: safe as a column name
    db.execute(
        f"insert into feedback_counts (phrase_id, content_hash, {column}, accepted) values (?, ?, 1, ?)"
        f" on conflict (phrase_id, content_hash) do update set {column} = {column} + 1,"
        " accepted = accepted + excluded.accepted",
        [event["phrase_id"], wording, accepted],
    )
    return 1


def acceptance(counts):
    """accepted / shown, rounded; None when never shown.

    ``accepted`` counts requests where the phrase was copied, inserted or
    thumbed up at least once, so a copy, an insert and a thumbs-up on one
    showing are one acceptance and the rate never exceeds 1.
    """
    if not counts["shown"]:
        return None
    return round(min(counts["accepted"] / counts["shown"], 1.0), 4)


def _day(value, field):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not DATE.fullmatch(value):
        raise InvalidFeedback(f"{field} must be a date as YYYY-MM-DD.", field)
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise InvalidFeedback(f"{field} is not a real date: {value}.", field) from e


def period(since=None, until=None, today=None):
    """The (since, until) dates asked for, both inclusive; by default the last 30 days."""
    today = today or datetime.now(timezone.utc).date()
    until = _day(until, "until") if until not in (None, "") else today
    since = _day(since, "since") if since not in (None, "") else until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise InvalidFeedback("since must not be after until.", "since")
    if (until - since).days >= MAX_DAYS:
        raise InvalidFeedback(f"The period may span at most {MAX_DAYS} days.", "since")
    return since, until


def _bounds(since, until):
    """created_at bounds for whole UTC days: [since 00:00, the day after until 00:00)."""
    return [since.isoformat(), (until + timedelta(days=1)).isoformat()]


def _empty():
    return dict.fromkeys(EVENTS, 0)


def _period_start(day, bucket):
    return day - timedelta(days=day.weekday()) if bucket == "week" else day


def _series(db, since, until, bucket, phrase_id):
    """Counts per day or week (labelled by its Monday), every period present, oldest first."""
    day_of = "substr(created_at, 1, 10)"
    if phrase_id:  # one phrase: its index narrows to a few rows, sorting them is cheap
        where, args = "phrase_id = ? and created_at >= ? and created_at < ?", [phrase_id, *_bounds(since, until)]
    else:  # the whole bank: the (day, event) expression index yields rows in group order
        where, args = f"{day_of} >= ? and {day_of} <= ?", [since.isoformat(), until.isoformat()]
    found = {}
    for day, event, n in db.execute(f"select {day_of}, event, count(*) from feedback_events where {where}"
                                    " group by 1, 2", args):
        key = _period_start(date.fromisoformat(day), bucket).isoformat()
        found.setdefault(key, _empty())[event] += n
    step = timedelta(days=7 if bucket == "week" else 1)
    day, last, series = _period_start(since, bucket), _period_start(until, bucket), []
    while day <= last:
        series.append({"period": day.isoformat(), **found.get(day.isoformat(), _empty())})
        day += step
    return series


def analytics(db, since=None, until=None, bucket="day", phrase_id=None, today=None):
    """Feedback over a period: totals, per phrase, a time series and the never-used phrases.

    ``since``/``until`` are dates (``date`` or "YYYY-MM-DD", inclusive, UTC;
    default the last 30 days), ``bucket`` is "day" or "week", ``phrase_id``
    narrows everything to one phrase.  Returns the dict /api/v1/analytics answers.
    """
    since, until = period(since, until, today)
    bucket = bucket or "day"
    if bucket not in BUCKETS:
        raise InvalidFeedback(f"bucket must be one of: {', '.join(BUCKETS)}.", "bucket", "invalid_choice")
    if phrase_id in (None, ""):
        phrase_id = None
    elif not isinstance(phrase_id, str) or not db.execute("select 1 from phrases where id = ?", [phrase_id]).fetchone():
        raise InvalidFeedback(f"No phrase with id {phrase_id!r}.", "phrase_id", "unknown_phrase")
    per_phrase = _counts_by_phrase(db, since, until, phrase_id)
    if phrase_id:
        per_phrase.setdefault(phrase_id, _empty())
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "bucket": bucket,
        "totals": _totals(per_phrase),
        "phrases": _phrase_rows(db, per_phrase),
        "series": _series(db, since, until, bucket, phrase_id),
        "never_used": _never_used(db, per_phrase, phrase_id),
    }


def _counts_by_phrase(db, since, until, phrase_id=None):
    """{phrase id: event counts and accepted showings} for the phrases with feedback in the period."""
    where, args = "created_at >= ? and created_at < ?", _bounds(since, until)
    if phrase_id:
        where, args = "phrase_id = ? and " + where, [phrase_id, *args]
    per_phrase = {}
    for pid, event, n in db.execute(f"select phrase_id, event, count(*) from feedback_events where {where}"
                                    " group by 1, 2", args):
        per_phrase.setdefault(pid, _empty())[event] = n
    marks = ",".join("?" * len(POSITIVE))
    for pid, n in db.execute(f"select phrase_id, count(distinct request_id) from feedback_events where {where}"
                             f" and event in ({marks}) group by 1", [*args, *POSITIVE]):
        per_phrase[pid]["accepted"] = n
    return per_phrase


def phrase_stats(db, since=None, until=None, today=None):
    """{phrase id: counts, accepted and acceptance} over a period (default the last 30 days), nothing else."""
    since, until = period(since, until, today)
    return {pid: {"accepted": 0, **counts, "acceptance": acceptance({"accepted": 0, **counts})}
            for pid, counts in _counts_by_phrase(db, since, until).items()}


def _totals(per_phrase):
    totals = {**_empty(), "accepted": 0}
    for counts in per_phrase.values():
        for name in totals:
            totals[name] += counts.get(name, 0)
    return {**totals, "acceptance": acceptance(totals)}


def _phrase_rows(db, per_phrase):
    """Per-phrase counts with the phrase's text, kind and status; most shown first."""
    info = {row[0]: row[1:] for row in db.execute("select id, text, kind, status from phrases")}
    rows = []
    for pid, counts in per_phrase.items():
        text, kind, status = info.get(pid, (None, None, None))
        counts = {"accepted": 0, **counts}
        rows.append({"id": pid, "text": text, "kind": kind, "status": status, **counts,
                     "acceptance": acceptance(counts)})
    return sorted(rows, key=lambda r: (-r["shown"], r["id"]))


def _never_used(db, per_phrase, phrase_id):
    """Approved phrases shown 0 times in the period (only ``phrase_id`` when given)."""
    where, args = ("status = 'approved' and id = ?", [phrase_id]) if phrase_id else ("status = 'approved'", [])
    rows = db.execute(f"select id, text, kind from phrases where {where} order by id", args)
    return [{"id": pid, "text": text, "kind": kind} for pid, text, kind in rows
            if not per_phrase.get(pid, {}).get("shown")]
