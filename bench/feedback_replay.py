"""Replay a feedback log and print how ranking learns from it.

    .venv/bin/python bench/feedback_replay.py            # about a minute on 2 cores
    .venv/bin/python bench/feedback_replay.py --every 2 --rounds 3   # what tests/test_learning.py replays

Angry and frustrated customer messages from the held-out set (never used for
training or tuning) go through POST /api/v1/suggest, round after round, and
simulated agents answer through POST /api/v1/feedback:

- every suggestion shown is reported as ``shown``;
- the empathy phrase shown for the most messages (``rejected``) gets a
  thumbs-down every time it is shown, and is never inserted;
- the phrase most often ranked just below the top, second to sixth (``used``),
  is inserted every time it is shown;
- otherwise agents insert the top empathy phrase half the time, and the top
  apology or ownership phrase a third of the time (background usage);
- misguided agents flood two irrelevant phrases with inserts and thumbs-up:
  ``excluded`` (a praise phrase, which the hard rules exclude for nearly all
  of these messages; a few sarcastic ones read as praise) and ``far`` (an
  empathy phrase scoring more than 0.12 below the third suggestion wherever it
  is eligible, i.e. out of the reach of feedback, which raises a score by at
  most 0.06).  Each is judged only on the messages it is irrelevant to.

Then a new phrase is added (exploration) and the rejected one is edited (its
counts start fresh).  The same functions drive tests/test_learning.py, which
asserts what this prints.  The app runs in-process on a temporary store.
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time
import timeit
from collections import Counter
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from phrasebank.store import PhraseStore  # noqa: E402

HELDOUT = ROOT / "tests" / "data" / "heldout_messages.jsonl"
EMOTIONS = ("angry", "frustrated")
SHOWN = 3  # suggestions per kind in the sidebar
RELEVANCE_GAP = 0.12  # twice the most feedback may move a score (learning.MAX_BOOST)
EXCLUDED_PHRASE = "empathy-grateful-02"  # praise: "That's so lovely to hear..."
NEW_PHRASE = {
    "id": "empathy-angry-new",
    "kind": "empathy",
    "text": "Anyone would be furious after being treated like this, and I'd feel exactly the same.",
    "emotions": ["angry", "frustrated"],
    "situations": [],
    "use_when": "Customer is furious about how they have been treated.",
    "status": "approved",
}
EDITED_TEXT = "A charge you never agreed to would make anyone angry, and I'd feel the same."


def heldout_messages(emotions=EMOTIONS):
    """Held-out messages (text) labelled with one of ``emotions``."""
    rows = [json.loads(line) for line in HELDOUT.read_text().splitlines() if line.strip()]
    return [r["text"] for r in rows if r["emotion"] in emotions]


def empathy_list(engine, message, boosts=None):
    """Every eligible empathy phrase for ``message`` in rank order: [(id, score), ...]."""
    body = engine.suggest(message, limit=1000, kinds=("empathy",), boosts=boosts)
    return [(s["id"], s["score"]) for s in body["suggestions"]["empathy"]]


def positions(lists, phrase_id):
    """The phrase's 0-based position in each list where it is eligible."""
    return [i for items in lists for i, (pid, _) in enumerate(items) if pid == phrase_id]


def choose_phrases(lists):
    """Pick the rejected, used and far-down phrases from the empathy lists before any feedback."""
    shown = Counter(pid for items in lists for pid, _ in items[:SHOWN])
    rejected = shown.most_common(1)[0][0]
    # The one agents prefer: most often just below the top, shown some of the time.
    near_top = Counter(pid for items in lists for pid, _ in items[1 : SHOWN + 3] if pid != rejected)
    used = near_top.most_common(1)[0][0]
    far = Counter()
    near = set()
    for items in lists:
        third = items[min(SHOWN, len(items)) - 1][1]
        for pid, score in items:
            if third - score > RELEVANCE_GAP:
                far[pid] += 1
            else:
                near.add(pid)
    far_ids = [pid for pid, _ in far.most_common() if pid not in near and pid not in (rejected, used)]
    return {"rejected": rejected, "used": used, "far": far_ids[0], "excluded": EXCLUDED_PHRASE}


class Agents:
    """Simulated agents answering suggestions through the feedback API."""

    def __init__(self, client, headers, roles, seed=7):
        self.client, self.headers, self.roles = client, headers, roles
        self.rng = random.Random(seed)
        self.flood_count = 0

    def suggest(self, message):
        response = self.client.post("/api/v1/suggest", json={"message": message, "limit": SHOWN}, headers=self.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def handle(self, message):
        """One conversation turn: suggest, then report what the agent did; returns the response."""
        body = self.suggest(message)
        rid = body["request_id"]
        events = [{"request_id": rid, "phrase_id": s["id"], "event": "shown"}
                  for items in body["suggestions"].values() for s in items]
        empathy = [s["id"] for s in body["suggestions"].get("empathy", [])]
        if self.roles["rejected"] in empathy:
            events.append({"request_id": rid, "phrase_id": self.roles["rejected"], "event": "thumbs_down"})
        if self.roles["used"] in empathy:
            events.append({"request_id": rid, "phrase_id": self.roles["used"], "event": "inserted"})
        elif empathy and self.rng.random() < 0.5:
            choice = next((p for p in empathy if p != self.roles["rejected"]), None)
            if choice:
                events.append({"request_id": rid, "phrase_id": choice, "event": "inserted"})
        for kind in ("apology", "ownership"):
            items = body["suggestions"].get(kind) or []
            if items and self.rng.random() < 1 / 3:
                events.append({"request_id": rid, "phrase_id": items[0]["id"], "event": "inserted"})
        self.send(events)
        return body

    def flood(self, phrase_ids, n=20):
        """Misguided agents: ``n`` requests' worth of inserts and thumbs-up for each phrase."""
        events = []
        for pid in phrase_ids:
            for _ in range(n):
                self.flood_count += 1
                rid = f"flood-{self.flood_count}"
                events += [{"request_id": rid, "phrase_id": pid, "event": e}
                           for e in ("shown", "inserted", "thumbs_up")]
        for start in range(0, len(events), 200):
            self.send(events[start : start + 200])

    def send(self, events):
        response = self.client.post("/api/v1/feedback", json={"events": events}, headers=self.headers)
        assert response.status_code == 201, response.get_json()


def summary(lists, phrase_id):
    """Mean position, times first and times shown (top 3) of a phrase over the lists."""
    found = positions(lists, phrase_id)
    return {
        "eligible": len(found),
        "mean_position": round(sum(found) / len(found), 2) if found else None,
        "first": sum(p == 0 for p in found),
        "shown": sum(p < SHOWN for p in found),
    }


def irrelevant_messages(lists, phrase_id):
    """Indexes of the messages a phrase is irrelevant to: excluded, or out of feedback's reach."""
    found = set()
    for i, items in enumerate(lists):
        third = items[min(SHOWN, len(items)) - 1][1] if items else 0.0
        score = dict(items).get(phrase_id)
        if score is None or third - score > RELEVANCE_GAP:
            found.add(i)
    return found


def replay(app, headers, messages, rounds=4, seed=7):
    """Run the whole replay on ``app``; returns the figures (see main for what they mean)."""
    engine = app.extensions["assist"].engine
    learner = engine.learning
    before = [empathy_list(engine, m) for m in messages]
    roles = choose_phrases(before)
    irrelevant = {role: irrelevant_messages(before, roles[role]) for role in ("far", "excluded")}
    agents = Agents(app.test_client(), headers, roles, seed=seed)
    violations = Counter()
    for _ in range(rounds):
        agents.flood([roles["excluded"], roles["far"]])
        learner.refresh(force=True)  # a server sees new feedback within REFRESH_SECONDS; a replay needs no wait
        for i, message in enumerate(messages):
            shown = {s["id"] for items in agents.handle(message)["suggestions"].values() for s in items}
            violations.update(role for role, where in irrelevant.items() if i in where and roles[role] in shown)
        learner.refresh(force=True)
    after = [empathy_list(engine, m) for m in messages]
    for role, where in irrelevant.items():
        violations[role] += sum(roles[role] in [pid for pid, _ in after[i][:SHOWN]] for i in where)
    figures = {
        "messages": len(messages),
        "rounds": rounds,
        "roles": roles,
        "boosts": {role: round(learner.boosts().get(pid, 0.0), 4) for role, pid in roles.items()},
        "tallies": {role: asdict(learner.tally(pid)) for role, pid in roles.items()},
        "before": {role: summary(before, pid) for role, pid in roles.items()},
        "after": {role: summary(after, pid) for role, pid in roles.items()},
        "irrelevant_for": {role: len(where) for role, where in irrelevant.items()},
        "shown_while_irrelevant": {role: violations[role] for role in irrelevant},
    }
    figures["new_phrase"] = exploration(app, agents, messages)
    figures["edited"] = edit_rejected(app, roles["rejected"])
    return figures


def exploration(app, agents, messages):
    """Add a new approved phrase: its bonus, how often it is shown, and the bonus after unused shows."""
    engine = app.extensions["assist"].engine
    PhraseStore(app.extensions["assist"].database.get()).create(NEW_PHRASE, author="replay")
    engine.refresh(force=True)
    pid = NEW_PHRASE["id"]
    boosts = dict(engine.learning.boosts())
    without_bonus = {k: v for k, v in boosts.items() if k != pid}
    with_bonus = [empathy_list(engine, m, boosts) for m in messages]
    no_bonus = [empathy_list(engine, m, without_bonus) for m in messages]
    start = boosts.get(pid, 0.0)
    shown = 0
    for message in messages:  # one round of agents who never use it
        body = agents.handle(message)
        shown += any(s["id"] == pid for s in body["suggestions"].get("empathy", []))
    engine.learning.refresh(force=True)
    return {
        "boost_when_new": round(start, 4),
        "with_bonus": summary(with_bonus, pid),
        "without_bonus": summary(no_bonus, pid),
        "shown_in_next_round": shown,
        "shows_then": engine.learning.tally(pid).shown,
        "boost_after_unused_shows": round(engine.learning.boosts().get(pid, 0.0), 4),
    }


def edit_rejected(app, phrase_id):
    """Edit the rejected phrase's text: its learned penalty goes, its history stays in analytics."""
    engine = app.extensions["assist"].engine
    db = app.extensions["assist"].database.get()
    boost_before = engine.learning.boosts().get(phrase_id, 0.0)
    PhraseStore(db).update(phrase_id, {"text": EDITED_TEXT}, author="replay")
    engine.refresh(force=True)
    from phrasebank import feedback

    history = feedback.analytics(db, bucket="week", phrase_id=phrase_id)["totals"]
    return {
        "boost_before_edit": round(boost_before, 4),
        "boost_after_edit": round(engine.learning.boosts().get(phrase_id, 0.0), 4),
        "shows_counted_after_edit": engine.learning.tally(phrase_id).shown,
        "thumbs_down_in_analytics": history["thumbs_down"],
    }


def overhead(app, messages, blocks=30, number=20):
    """Microseconds per suggest that learning adds, from interleaved blocks (a busy neighbour slows both alike)."""
    from phrasebank.ranking import Context, rank

    engine = app.extensions["assist"].engine
    learner = engine.learning
    cases = []
    for message in messages[:5]:
        vector = engine.embed(message)
        understood = engine.understand(message, vector)
        cases.append((vector, understood))

    def ranking(boosts):
        def run():
            for vector, understood in cases:
                rank(engine.index, vector, Context(emotion=understood.emotion, emotion_scores=understood.scores,
                                                   situations=dict(understood.situations), boosts=boosts))
        return run

    timings = {"with": [], "without": []}
    for _ in range(blocks):
        timings["with"].append(timeit.timeit(ranking(learner.boosts()), number=number) / number / len(cases))
        timings["without"].append(timeit.timeit(ranking({}), number=number) / number / len(cases))
    median = {k: sorted(v)[len(v) // 2] * 1e6 for k, v in timings.items()}
    return {
        "learner.boosts(), cached": round(timeit.timeit(learner.boosts, number=10000) / 10000 * 1e6, 2),
        "rank with boosts (median)": round(median["with"], 1),
        "rank without boosts (median)": round(median["without"], 1),
        "added per suggest": round(median["with"] - median["without"], 1),
        "snapshot rebuild, on new feedback at most every 2 s": round(
            timeit.timeit(lambda: learner.refresh(force=True), number=50) / 50 * 1e6, 1),
        "boosted phrases": len(learner.boosts()),
    }


def build_app(data_dir):
    """An app on a fresh store in ``data_dir`` with the shipped model and classifier (no demo data)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from assist import create_app, tokens
    from assist.cli import initialise
    from phrasebank.embedder import Embedder
    from phrasebank.understanding import classifier_for

    cache = next((p for p in (ROOT / "tests" / ".cache" / "models", ROOT / "instance" / "models") if p.exists()),
                 Path(data_dir) / "models")
    embedder = Embedder(cache_dir=cache).load()
    settings = {"DATA_DIR": str(data_dir), "DEMO_DATA": 0}
    initialise({**settings, "DATABASE": str(Path(data_dir) / "assist.db")}, announce=False)
    app = create_app({**settings, "EMBEDDER": embedder, "CLASSIFIER": classifier_for(embedder, cache)})
    token = tokens.create_token(app.extensions["assist"].database.get(), "agent", "replay agent")
    return app, {"Authorization": f"Bearer {token}"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--every", type=int, default=1, help="use every n-th message (the test uses 2)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        app, headers = build_app(data_dir)
        messages = heldout_messages()[:: args.every]
        started = time.perf_counter()
        figures = replay(app, headers, messages, rounds=args.rounds)
        figures["replay_seconds"] = round(time.perf_counter() - started, 1)
        figures["overhead_us"] = overhead(app, messages)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{figures['messages']} held-out angry/frustrated messages x {figures['rounds']} rounds "
          f"({figures['replay_seconds']} s)\n")
    print(f"{'role':<10}{'phrase':<24}{'boost':>8}   mean position / first / in top {SHOWN}: before -> after")
    for role, pid in figures["roles"].items():
        b, a = figures["before"][role], figures["after"][role]
        print(f"{role:<10}{pid:<24}{figures['boosts'][role]:>+8.3f}   "
              f"{b['mean_position']} / {b['first']} / {b['shown']}  ->  "
              f"{a['mean_position']} / {a['first']} / {a['shown']}"
              f"   (eligible for {a['eligible']} messages)")
    print(f"\nmessages each irrelevant phrase is irrelevant to: {figures['irrelevant_for']}; times shown to them "
          f"during or after the replay: {figures['shown_while_irrelevant']}")
    print(f"new phrase: {json.dumps(figures['new_phrase'])}")
    print(f"edited (rejected) phrase: {json.dumps(figures['edited'])}")
    print("\noverhead, microseconds per call:")
    for name, value in figures["overhead_us"].items():
        print(f"  {name}: {value}")


if __name__ == "__main__":
    main()
