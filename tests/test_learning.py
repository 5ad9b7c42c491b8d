"""Ranking that learns from agent feedback: bounded, fresh after an edit, exploring, never unsafe."""

import shutil
import sys
from pathlib import Path

import pytest

from assist import create_app, tokens
from phrasebank import feedback, learning
from phrasebank.learning import MAX_BOOST, MAX_PENALTY, Learner, Tally, boost, boosts_for
from phrasebank.ranking import Context, rank, score_all
from phrasebank.store import PhraseStore

ROOT = Path(__file__).parent.parent
if str(ROOT) not in sys.path:  # bench/ is scripts, not an installed package
    sys.path.insert(0, str(ROOT))

from bench import feedback_replay  # noqa: E402

PHRASE = "empathy-angry-01"


# --- the prior and the boost, without a model --------------------------------------------------

@pytest.mark.parametrize("tally", [
    Tally(), Tally(shown=10**6), Tally(shown=10**6, accepted=10**6), Tally(shown=10**6, rejected=10**6),
    Tally(shown=0, accepted=10**6), Tally(shown=3, accepted=3), Tally(shown=3, rejected=3),
])
@pytest.mark.parametrize("rate", [0.01, 0.05, 0.2, 0.5, 0.99])
def test_the_boost_stays_within_its_bound(tally, rate):
    assert -MAX_PENALTY <= boost(tally, rate) <= MAX_BOOST


def test_acceptance_raises_and_rejection_lowers_the_boost():
    rate = 0.1
    accepted = [boost(Tally(shown=20, accepted=n), rate) for n in range(0, 21, 4)]
    rejected = [boost(Tally(shown=20, rejected=n), rate) for n in range(0, 21, 4)]
    assert accepted == sorted(accepted) and accepted[-1] > accepted[0]
    assert rejected == sorted(rejected, reverse=True) and rejected[-1] < rejected[0]
    assert accepted[-1] > 0 > rejected[-1]


def test_a_thumbs_down_counts_more_than_a_show_that_was_not_used():
    assert boost(Tally(shown=10, rejected=5), 0.1) < boost(Tally(shown=10), 0.1)


def test_the_more_a_phrase_is_rejected_the_less_exploration_shields_it():
    assert boost(Tally(shown=40, rejected=40), 0.1) < boost(Tally(shown=10, rejected=10), 0.1) < 0


def test_a_phrase_at_the_bank_rate_with_plenty_of_evidence_is_barely_moved():
    tallies = [Tally(shown=1000, accepted=100) for _ in range(10)]
    rate = learning.bank_rate(tallies)
    assert abs(boost(tallies[0], rate)) < 0.01


def test_exploration_favours_the_unseen_and_decays_with_shows():
    # Used at exactly the bank rate (1 in 19 shows is, with unused shows at half weight, a 10% rate):
    # only the exploration bonus is left, and it shrinks as the phrase is shown.
    assert learning.UNUSED_WEIGHT == 0.5
    values = [boost(Tally(shown=n, accepted=n // 19), 0.1) for n in (0, 19, 190, 1900)]
    assert values[0] > 0.02
    assert values == sorted(values, reverse=True) and values[-1] < values[0] / 3


def test_no_feedback_means_no_boosts():
    assert boosts_for({"a": Tally(), "b": Tally()}, [Tally()]) == {}
    assert boosts_for({"a": Tally(), "b": Tally(shown=5)}, [Tally(shown=5)])["a"] > 0


# --- the snapshot on a real store ----------------------------------------------------------------

def events(request_id, *names, phrase_id=PHRASE):
    return [{"request_id": request_id, "phrase_id": phrase_id, "event": name} for name in names]


def test_the_snapshot_follows_feedback_and_an_edit_starts_fresh(app, db):
    learner = Learner(app.extensions["assist"].database, refresh_seconds=0)
    assert learner.boosts() == {}
    for i in range(30):
        feedback.record(db, events(f"r{i}", "shown", "thumbs_down"), "ann")
    assert learner.tally(PHRASE) == Tally(shown=30, accepted=0, rejected=30)
    assert learner.boosts()[PHRASE] < 0
    unseen = learner.boosts()["empathy-angry-02"]
    assert unseen > 0  # never shown: uncertain, so worth trying
    PhraseStore(db).update(PHRASE, {"text": "I can hear how angry this has made you, and that's fair."}, author="t")
    assert learner.tally(PHRASE) == Tally()
    assert learner.boosts()[PHRASE] == pytest.approx(unseen)  # just like a phrase nobody has seen


def test_the_snapshot_is_reused_between_refreshes(app, db):
    learner = Learner(app.extensions["assist"].database, refresh_seconds=3600)
    feedback.record(db, events("r1", "shown"), "ann")
    first = learner.boosts()
    feedback.record(db, events("r2", "shown", "inserted"), "ann")
    assert learner.boosts() is first  # cached: no query until the refresh interval passes
    learner.refresh(force=True)
    assert learner.boosts()[PHRASE] > first.get(PHRASE, 0)


def test_feedback_reaches_suggestions_and_their_why(client, agent, app, db):
    def empathy():
        body = client.post("/api/v1/suggest", json={"message": "I am absolutely furious, nobody fixed this!!",
                                                    "kinds": ["empathy"], "limit": 10}, headers=agent).get_json()
        return body["suggestions"]["empathy"]

    before = empathy()
    assert not [s for s in before if "agent feedback" in s["why"]]
    for i in range(40):  # every time: all ten shown, PHRASE inserted
        shown = [{"request_id": f"r{i}", "phrase_id": s["id"], "event": "shown"} for s in before]
        feedback.record(db, shown + events(f"r{i}", "inserted"), "ann")
    app.extensions["assist"].engine.refresh(force=True)
    after = {s["id"]: s for s in empathy()}
    old = {s["id"]: s for s in before}
    assert after[PHRASE]["score"] > old[PHRASE]["score"]
    assert "agent feedback (+0.0" in after[PHRASE]["why"]
    # The others were shown forty times and never used: they slip.
    assert any("agent feedback (-0.0" in s["why"] for pid, s in after.items() if pid != PHRASE)


def test_why_tells_exploration_from_feedback(client, agent, app, db):
    for i in range(5):
        feedback.record(db, events(f"r{i}", "shown", "inserted"), "ann")  # feedback on PHRASE only
    app.extensions["assist"].engine.refresh(force=True)
    body = client.post("/api/v1/suggest", json={"message": "I am absolutely furious, nobody fixed this!!",
                                                "kinds": ["empathy"], "limit": 10}, headers=agent).get_json()
    why = {s["id"]: s["why"] for s in body["suggestions"]["empathy"]}
    assert "agent feedback (+0.0" in why[PHRASE] and "shown to learn" not in why[PHRASE]
    others = [text for pid, text in why.items() if pid != PHRASE]
    assert others and all("new phrase, shown to learn (+0.0" in text and "agent feedback" not in text
                          for text in others)


def test_learning_can_be_switched_off(data_dir, embedder, classifier):
    app = create_app({"DATA_DIR": str(data_dir), "EMBEDDER": embedder, "CLASSIFIER": classifier, "LEARNING": 0})
    db = app.extensions["assist"].database.get()
    for i in range(40):
        feedback.record(db, events(f"r{i}", "shown", "inserted"), "ann")
    assert app.extensions["assist"].engine.learning is None
    headers = {"Authorization": f"Bearer {tokens.create_token(db, 'agent', 'a')}"}
    body = app.test_client().post("/api/v1/suggest", json={"message": "I am absolutely furious!!", "limit": 10},
                                  headers=headers).get_json()
    assert not [s for items in body["suggestions"].values() for s in items if "agent feedback" in s["why"]]


MESSAGES = [
    "You charged me twice this month and nobody will refund it. I'm furious.",
    "My father passed away and I need to close his account, but your bill just went up.",
    "Thank you so much, Priya sorted everything out in five minutes. Brilliant service.",
    "Can you tell me what time your store opens on Saturday?",
]


@pytest.mark.parametrize("message", MESSAGES)
@pytest.mark.parametrize("size", [1.0, -1.0, 100.0])
def test_boosts_only_reorder_phrases_that_may_be_shown(app, message, size):
    engine = app.extensions["assist"].engine
    vector = engine.embed(message)
    understood = engine.understand(message, vector)
    index = engine.index
    ctx = Context(emotion=understood.emotion, emotion_scores=understood.scores,
                  situations=dict(understood.situations), boosts={p["id"]: size for p in index.phrases})
    excluded = {index.phrases[i]["id"] for i in range(len(index)) if score_all(index, vector, ctx).excluded[i]}
    assert excluded
    shown = {s["id"] for items in rank(index, vector, ctx, limit=1000).values() for s in items}
    assert shown and not shown & excluded


# --- the replayed feedback log (bench/feedback_replay.py), with the real model ---------------------

@pytest.fixture(scope="module")
def replayed(tmp_path_factory, prepared_store, embedder, classifier):
    """The replay on held-out angry and frustrated messages (every other one, to keep it quick)."""
    data_dir = tmp_path_factory.mktemp("replay")
    shutil.copy(prepared_store, data_dir / "assist.db")
    app = create_app({"DATA_DIR": str(data_dir), "EMBEDDER": embedder, "CLASSIFIER": classifier})
    token = tokens.create_token(app.extensions["assist"].database.get(), "agent", "replay")
    messages = feedback_replay.heldout_messages()[::2]
    return feedback_replay.replay(app, {"Authorization": f"Bearer {token}"}, messages, rounds=3)


def test_a_consistently_rejected_phrase_drops(replayed):
    before, after = replayed["before"]["rejected"], replayed["after"]["rejected"]
    assert replayed["boosts"]["rejected"] < 0
    assert after["mean_position"] > before["mean_position"]
    assert after["first"] < before["first"]


def test_a_consistently_used_phrase_rises(replayed):
    before, after = replayed["before"]["used"], replayed["after"]["used"]
    assert replayed["boosts"]["used"] > 0
    assert after["mean_position"] < before["mean_position"]
    assert after["shown"] > before["shown"]


def test_irrelevant_phrases_never_rise_into_the_suggestions(replayed):
    # Both were flooded with inserts and thumbs-up: their boosts are at the top of the range...
    assert replayed["boosts"]["far"] > 0.8 * MAX_BOOST
    assert replayed["boosts"]["excluded"] > 0.8 * MAX_BOOST
    assert replayed["irrelevant_for"]["far"] > 0 and replayed["irrelevant_for"]["excluded"] > 0
    # ...and yet not one message they are irrelevant to was shown them, during or after the replay.
    assert replayed["shown_while_irrelevant"] == {"far": 0, "excluded": 0}
    assert replayed["after"]["far"]["shown"] == 0


def test_a_new_phrase_gets_explored(replayed):
    new = replayed["new_phrase"]
    assert new["boost_when_new"] > 0
    assert new["with_bonus"]["mean_position"] < new["without_bonus"]["mean_position"]
    assert new["with_bonus"]["shown"] > new["without_bonus"]["shown"]
    assert new["shown_in_next_round"] > 0
    assert new["shows_then"] >= new["shown_in_next_round"]
    assert new["boost_after_unused_shows"] < new["boost_when_new"]  # the bonus decays as it is shown and not used


def test_an_edited_phrase_starts_fresh(replayed):
    edited = replayed["edited"]
    assert edited["boost_before_edit"] < 0
    assert edited["shows_counted_after_edit"] == 0
    assert edited["boost_after_edit"] > 0  # an unseen wording: the exploration bonus, not the old penalty
    assert edited["thumbs_down_in_analytics"] > 0  # analytics keep the phrase's history
