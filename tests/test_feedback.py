"""Agent feedback storage (POST /api/v1/feedback) and analytics (GET /api/v1/analytics)."""

import time
from datetime import date, datetime, timedelta, timezone

import pytest

from phrasebank import feedback
from phrasebank.store import PhraseStore

PHRASE = "empathy-angry-01"
OTHER = "empathy-angry-02"


def event(request_id="r1", phrase_id=PHRASE, name="shown"):
    return {"request_id": request_id, "phrase_id": phrase_id, "event": name}


def post(client, headers, body):
    return client.post("/api/v1/feedback", json=body, headers=headers)


def stored(db):
    return [dict(r) for r in db["feedback_events"].rows]


def test_one_event_is_stored_with_agent_wording_and_utc_time(client, agent, db):
    response = post(client, agent, event())
    assert response.status_code == 201
    assert response.get_json() == {"recorded": 1, "duplicates": 0}
    (row,) = stored(db)
    assert (row["request_id"], row["phrase_id"], row["event"], row["agent"]) == ("r1", PHRASE, "shown", "test agent")
    assert row["content_hash"] == feedback.wording_hash(PhraseStore(db).get(PHRASE))
    stamp = datetime.fromisoformat(row["created_at"])
    assert stamp.utcoffset() == timedelta(0)
    assert abs((datetime.now(timezone.utc) - stamp).total_seconds()) < 60


def test_a_batch_is_stored_and_repeats_are_duplicates(client, agent, db):
    batch = {"events": [event(name=e) for e in ("shown", "inserted", "thumbs_up")] + [event("r2", OTHER)]}
    assert post(client, agent, batch).get_json() == {"recorded": 4, "duplicates": 0}
    assert post(client, agent, batch).get_json() == {"recorded": 0, "duplicates": 4}
    again = {"events": [event(), event(), event("r3")]}  # a duplicate inside the batch too
    assert post(client, agent, again).get_json() == {"recorded": 1, "duplicates": 2}
    assert len(stored(db)) == 5


def test_the_same_event_from_another_request_counts(client, agent, db):
    post(client, agent, event("r1"))
    assert post(client, agent, event("r2")).get_json()["recorded"] == 1


def test_an_admin_token_may_send_feedback(client, admin, db):
    assert post(client, admin, event()).status_code == 201
    assert stored(db)[0]["agent"] == "test admin"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
def test_feedback_and_analytics_need_a_token(client, headers):
    assert post(client, headers, event()).status_code == 401
    assert client.get("/api/v1/analytics", headers=headers).status_code == 401


def test_analytics_needs_an_admin(client, agent, admin):
    response = client.get("/api/v1/analytics", headers=agent)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/analytics", headers=admin).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "request_id"),
        ({"phrase_id": PHRASE, "event": "shown"}, "request_id"),
        ({**event(), "request_id": ""}, "request_id"),
        ({**event(), "request_id": "has space"}, "request_id"),
        ({**event(), "request_id": "x" * 65}, "request_id"),
        ({**event(), "request_id": "é"}, "request_id"),
        ({**event(), "request_id": 7}, "request_id"),
        ({"request_id": "r1", "event": "shown"}, "phrase_id"),
        ({**event(), "phrase_id": 5}, "phrase_id"),
        ({**event(), "phrase_id": "no-such-phrase"}, "phrase_id"),
        ({"request_id": "r1", "phrase_id": PHRASE}, "event"),
        ({**event(), "event": "clicked"}, "event"),
        ({**event(), "event": ["shown"]}, "event"),
        ({**event(), "agent": "someone else"}, "agent"),
        ({"events": []}, "events"),
        ({"events": "shown"}, "events"),
        ({"events": [event()] * 201}, "events"),
        ({"events": [event()], "request_id": "r1"}, "request_id"),
        ({"events": [event(), "shown"]}, "events[1]"),
        ({"events": [event(), event(), event(), event(name="clicked")]}, "events[3].event"),
        ({"events": [event(), event("r2", "no-such-phrase")]}, "events[1].phrase_id"),
        ({"events": [{**event(), "extra": 1}]}, "events[0].extra"),
        ({"events": [event(), {"phrase_id": PHRASE, "event": "shown"}]}, "events[1].request_id"),
    ],
)
def test_bad_feedback_is_a_400_naming_the_field_and_stores_nothing(client, agent, db, body, field):
    response = post(client, agent, body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["field"] == field
    assert response.get_json()["error"]["message"]
    assert stored(db) == []


def test_a_body_that_is_not_an_object_is_refused(client, agent):
    assert post(client, agent, [event()]).get_json()["error"]["field"] == "body"
    response = client.post("/api/v1/feedback", data="shown", content_type="text/plain", headers=agent)
    assert response.status_code == 415


def test_a_batch_with_one_bad_event_stores_nothing(client, agent, db):
    batch = {"events": [event("a"), event("b"), event("c"), event("d", "no-such-phrase"), event("e")]}
    assert post(client, agent, batch).status_code == 400
    assert stored(db) == [] and db["feedback_counts"].count == 0
    batch["events"][3] = event("d")
    assert post(client, agent, batch).get_json() == {"recorded": 5, "duplicates": 0}


def test_feedback_on_an_edited_phrase_is_kept_under_its_new_wording(client, agent, db):
    post(client, agent, event("r1"))
    PhraseStore(db).update(PHRASE, {"text": "I can hear how angry this has made you, and I want to put it right."},
                           author="test")
    post(client, agent, event("r2"))
    first, second = stored(db)
    assert first["content_hash"] != second["content_hash"]
    assert {r["content_hash"] for r in db["feedback_counts"].rows} == {first["content_hash"], second["content_hash"]}


def test_counts_one_acceptance_per_request_and_phrase(db):
    feedback.record(db, [event("r1", name=e) for e in ("shown", "copied", "inserted", "thumbs_up")], "a")
    feedback.record(db, [event("r2", name="shown"), event("r2", name="thumbs_down")], "a")
    (row,) = db["feedback_counts"].rows
    assert (row["shown"], row["copied"], row["inserted"], row["thumbs_up"], row["thumbs_down"], row["accepted"]) == (
        2, 1, 1, 1, 1, 1)
    report = feedback.analytics(db, today=date.today())
    (phrase,) = report["phrases"]
    assert (phrase["accepted"], phrase["acceptance"]) == (1, 0.5)  # three positives on one showing: one acceptance
    assert report["totals"]["acceptance"] == 0.5


# --- analytics on a known event set -------------------------------------------------------------

DAY = date(2026, 11, 16)  # a Monday


def at(days, hour=12):
    return datetime(DAY.year, DAY.month, DAY.day, hour, tzinfo=timezone.utc) + timedelta(days=days)


@pytest.fixture
def history(db):
    """PHRASE shown 4 times over two weeks (used twice), OTHER shown once and thumbed down."""
    record = feedback.record
    record(db, [event("a", PHRASE, "shown"), event("a", PHRASE, "inserted"), event("a", OTHER, "shown"),
                event("a", OTHER, "thumbs_down")], "ann", now=at(0))
    record(db, [event("b", PHRASE, "shown"), event("b", PHRASE, "copied")], "bob", now=at(1, 23))
    record(db, [event("c", PHRASE, "shown")], "ann", now=at(7))
    record(db, [event("d", PHRASE, "shown"), event("d", PHRASE, "thumbs_up")], "ann", now=at(9))
    record(db, [event("old", OTHER, "shown")], "ann", now=at(-30))  # outside every period asked below
    return db


def analytics(client, admin, **query):
    response = client.get("/api/v1/analytics", query_string=query, headers=admin)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_analytics_totals_phrases_and_daily_series(client, admin, history):
    body = analytics(client, admin, since="2026-11-16", until="2026-11-29")
    assert (body["since"], body["until"], body["bucket"]) == ("2026-11-16", "2026-11-29", "day")
    assert body["totals"] == {"shown": 5, "copied": 1, "inserted": 1, "thumbs_up": 1, "thumbs_down": 1,
                              "accepted": 3, "acceptance": 0.6}
    first, second = body["phrases"]
    assert first == {**{k: first[k] for k in ("text", "kind", "status")}, "id": PHRASE, "shown": 4, "copied": 1,
                     "inserted": 1, "thumbs_up": 1, "thumbs_down": 0, "accepted": 3,
                     "acceptance": 0.75}
    assert (first["kind"], first["status"]) == ("empathy", "approved")
    assert (second["id"], second["shown"], second["thumbs_down"], second["acceptance"]) == (OTHER, 1, 1, 0.0)
    assert [p["period"] for p in body["series"]] == [(DAY + timedelta(days=i)).isoformat() for i in range(14)]
    by_day = {p["period"]: p for p in body["series"]}
    assert by_day["2026-11-16"] == {"period": "2026-11-16", "shown": 2, "copied": 0, "inserted": 1,
                                    "thumbs_up": 0, "thumbs_down": 1}
    assert by_day["2026-11-17"]["copied"] == 1  # 23:00 UTC stays on its UTC day
    assert sum(p["shown"] for p in body["series"]) == body["totals"]["shown"]


def test_analytics_weekly_buckets_start_on_monday(client, admin, history):
    body = analytics(client, admin, since="2026-11-18", until="2026-11-29", bucket="week")
    assert [(p["period"], p["shown"], p["thumbs_up"]) for p in body["series"]] == [
        ("2026-11-16", 0, 0), ("2026-11-23", 2, 1)]  # 16-17 Nov are before since
    assert body["totals"]["shown"] == 2


def test_analytics_date_filters(client, admin, history):
    assert analytics(client, admin, since="2026-11-23", until="2026-11-23")["totals"]["shown"] == 1
    assert analytics(client, admin, since="2026-11-17", until="2026-11-17")["totals"]["copied"] == 1
    empty = analytics(client, admin, since="2026-12-01", until="2026-12-02")
    assert empty["totals"]["shown"] == 0 and empty["totals"]["acceptance"] is None and empty["phrases"] == []
    assert analytics(client, admin, since="2026-10-01", until="2026-11-29")["totals"]["shown"] == 6


def test_analytics_for_one_phrase(client, admin, history):
    body = analytics(client, admin, since="2026-11-16", until="2026-11-29", phrase_id=OTHER)
    assert [p["id"] for p in body["phrases"]] == [OTHER]
    assert body["totals"]["shown"] == 1 and body["totals"]["thumbs_down"] == 1
    assert body["never_used"] == []
    unused = analytics(client, admin, since="2026-11-16", until="2026-11-29", phrase_id="empathy-angry-03")
    assert unused["phrases"][0]["shown"] == 0 and unused["phrases"][0]["acceptance"] is None
    assert [p["id"] for p in unused["never_used"]] == ["empathy-angry-03"]


def test_never_used_lists_approved_phrases_not_shown_in_the_period(client, admin, history, db):
    store = PhraseStore(db)
    store.create({"id": "draft-one", "text": "We're looking into it now.", "kind": "ownership"}, author="t")
    body = analytics(client, admin, since="2026-11-16", until="2026-11-29")
    never = {p["id"] for p in body["never_used"]}
    assert PHRASE not in never and OTHER not in never and "draft-one" not in never
    assert never == {p["id"] for p in store.list(status="approved")} - {PHRASE, OTHER}
    assert set(body["never_used"][0]) == {"id", "text", "kind"}
    later = analytics(client, admin, since="2026-11-24", until="2026-11-29")  # OTHER not shown that week
    assert OTHER in {p["id"] for p in later["never_used"]}


def test_analytics_defaults_to_the_last_30_days(client, admin, db):
    today = datetime.now(timezone.utc).date()
    feedback.record(db, [event("today")], "ann")
    body = analytics(client, admin)
    assert (body["since"], body["until"]) == ((today - timedelta(days=29)).isoformat(), today.isoformat())
    assert len(body["series"]) == 30 and body["series"][-1]["shown"] == 1
    assert analytics(client, admin, until="2026-01-30")["since"] == "2026-01-01"


@pytest.mark.parametrize(
    "query, field",
    [
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-02-30"}, "since"),
        ({"since": "2026-11-16T00:00:00"}, "since"),
        ({"until": "16/11/2026"}, "until"),
        ({"until": "20261116"}, "until"),
        ({"since": "2026-11-20", "until": "2026-11-19"}, "since"),
        ({"since": "1990-01-01", "until": "2026-01-01"}, "since"),
        ({"bucket": "month"}, "bucket"),
        ({"phrase_id": "no-such-phrase"}, "phrase_id"),
    ],
)
def test_bad_analytics_query_is_a_400_naming_the_field(client, admin, query, field):
    response = client.get("/api/v1/analytics", query_string=query, headers=admin)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_the_library_takes_dates_and_strings(db):
    feedback.record(db, [event("a")], "ann", now=at(0))
    as_dates = feedback.analytics(db, DAY, DAY, "day")
    assert as_dates == feedback.analytics(db, "2026-11-16", "2026-11-16", "day")
    assert as_dates["totals"]["shown"] == 1 and list(as_dates) == ["since", "until", "bucket", "totals", "phrases",
                                                                    "series", "never_used"]


def test_analytics_over_100k_events_is_fast_and_uses_the_index(db):
    ids = [r[0] for r in db.execute("select id from phrases where status = 'approved' limit 200")]
    start = datetime(2026, 9, 1, tzinfo=timezone.utc)
    rows = [(f"r{i // 5}", ids[i % len(ids)], feedback.EVENTS[i % 5], "h", "a",
             (start + timedelta(minutes=i)).isoformat(timespec="seconds")) for i in range(100_000)]
    with db.conn:
        db.conn.executemany("insert into feedback_events (request_id, phrase_id, event, content_hash, agent,"
                            " created_at) values (?, ?, ?, ?, ?, ?)", rows)
    plan = " ".join(str(r) for r in db.execute(
        "explain query plan select phrase_id, event, count(*) from feedback_events"
        " where created_at >= ? and created_at < ? group by 1, 2", ["2026-09-01", "2026-12-01"]))
    assert "USING COVERING INDEX" in plan
    series_plan = " ".join(str(r) for r in db.execute(
        "explain query plan select substr(created_at, 1, 10), event, count(*) from feedback_events"
        " where substr(created_at, 1, 10) >= ? and substr(created_at, 1, 10) <= ? group by 1, 2",
        ["2026-09-01", "2026-11-30"]))
    assert "idx_feedback_events_day_event" in series_plan and "TEMP B-TREE" not in series_plan
    started = time.perf_counter()
    body = feedback.analytics(db, "2026-09-01", "2026-11-30", "day")
    elapsed = time.perf_counter() - started
    assert body["totals"]["shown"] == 20_000 and len(body["phrases"]) == len(ids)
    assert elapsed < 2.0, elapsed  # about 0.15 s on the 2-core machine; generous for a shared one
