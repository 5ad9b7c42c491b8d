"""phrasebank as a plain library: store, vector cache, index snapshots, templates, rules, files."""

import hashlib

import numpy as np
import pytest

from phrasebank import InvalidPhrase, PhraseNotFound, VersionConflict, lint, rules, templates, vectors
from phrasebank.db import migrate, open_database
from phrasebank.index import PhraseIndex
from phrasebank.io import dump_phrases, parse_phrases
from phrasebank.store import PhraseStore


class CountingEmbedder:
    """Deterministic stand-in for plumbing tests only: hashes text to a unit vector, counts calls."""

    name = "counting-test-model"
    dim = 16

    def __init__(self):
        self.embedded = []

    def encode(self, texts):
        self.embedded.extend(texts)
        rows = []
        for text in texts:
            seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
            v = np.random.default_rng(seed).normal(size=self.dim).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.array(rows, dtype=np.float32)


@pytest.fixture
def store():
    return PhraseStore(migrate(open_database(":memory:")))


def phrase(**overrides):
    return {"text": "We're looking into this for you now.", "kind": "ownership", "status": "approved", **overrides}


def test_migrations_are_idempotent():
    db = open_database(":memory:")
    migrate(db)
    applied = db["_sqlite_migrations"].count
    migrate(db)
    assert db["_sqlite_migrations"].count == applied


def test_create_get_update_and_revision(store):
    start = store.revision()
    created = store.create(phrase(id="own-1"), author="ana")
    assert store.get("own-1") == created
    assert store.revision() == start + 1
    updated = store.update("own-1", {"emotions": ["angry"]}, author="bo")
    assert updated["version"] == 2 and updated["emotions"] == ["angry"]
    assert store.update("own-1", {"emotions": ["angry"]}, author="bo")["version"] == 2  # no-op change
    with pytest.raises(VersionConflict):
        store.update("own-1", {"text": "x"}, author="bo", expected_version=1)
    with pytest.raises(PhraseNotFound):
        store.get("nope")
    with pytest.raises(InvalidPhrase) as e:
        store.update("own-1", {"author": "mallory"}, author="bo")
    assert e.value.field == "author"


def test_failed_write_changes_nothing(store):
    store.create(phrase(id="own-1"), author="ana")
    before = (store.export(), store.revision())
    with pytest.raises(InvalidPhrase):
        store.create(phrase(id="own-1"), author="ana")
    with pytest.raises(InvalidPhrase):
        store.apply_import([phrase(id="own-2"), phrase(id="own-3", text="Sorry if this upset you.")], "ana")
    assert (store.export(), store.revision()) == before


def test_unchanged_phrases_are_never_re_embedded(store):
    embedder = CountingEmbedder()
    store.apply_import([phrase(id=f"own-{i}", text=f"We're checking item {i} now.") for i in range(5)], "ana")
    first = vectors.vectors_for(store.db, embedder, store.list())
    assert len(embedder.embedded) == 5 and first.shape == (5, 16)
    again = vectors.vectors_for(store.db, embedder, store.list())
    assert len(embedder.embedded) == 5
    np.testing.assert_array_equal(first, again)
    store.update("own-0", {"text": "I'm checking the first item now."}, author="ana")
    vectors.vectors_for(store.db, embedder, store.list())
    assert embedder.embedded[5:] == ["I'm checking the first item now."]
    assert vectors.count_stored(store.db, embedder.name) == 6
    blob = store.db.execute("select vector from embeddings limit 1").fetchone()[0]
    assert len(blob) == 16 * 4  # float32


def test_index_snapshot_searches_and_reflects_features(store):
    embedder = CountingEmbedder()
    store.apply_import(
        [
            phrase(id="a", text="I'm so sorry this happened.", kind="apology", emotions=["sad"]),
            phrase(id="b", text="Thank you so much, that's great to hear!", kind="gratitude", situations=["praise"]),
            phrase(id="c", text="I'm staying on the line with you.", kind="reassurance", channels=["phone"]),
        ],
        "ana",
    )
    approved = store.list(status="approved")
    index = PhraseIndex(approved, vectors.vectors_for(store.db, embedder, approved))
    positions, sims = index.search(embedder.encode(["I'm staying on the line with you."])[0], 3)
    assert index.phrases[positions[0]]["id"] == "c" and sims[0] == pytest.approx(1.0, abs=1e-5)
    assert list(index.apologetic) == [True, False, False]
    assert list(index.cheerful) == [False, True, False]
    assert index.channels[2].tolist() == [0, 0, 1]


@pytest.mark.parametrize(
    "template, facts, fallback, expected",
    [
        ("Hi {first_name}.", {"first_name": "Ana"}, None, "Hi Ana."),
        ("Hi {first_name}.", {}, "Hi there.", "Hi there."),
        ("Hi {first_name}.", {"first_name": ""}, None, None),
        ("The {contact_count_ordinal} time", {"contact_count": 3}, None, "The third time"),
        ("The {contact_count_ordinal} time", {"contact_count": 23}, None, "The 23rd time"),
        ("About {issue}", {"issue": "{agent_name} {{7*7}}"}, None, "About agent_name 7*7"),
        ("About {issue}", {"issue": "a\nb\tc"}, None, "About a b c"),
        ("Hi {first_name.__class__}", {"first_name": "x"}, "Hi.", "Hi."),
    ],
)
def test_render_is_safe(template, facts, fallback, expected):
    assert templates.render(template, facts, fallback) == expected


@pytest.mark.parametrize(
    "text, code",
    [
        ("We apologise for any inconvenience caused.", "non_apology"),
        ("I'm sorry you feel that way.", "non_apology"),
        ("Sorry if that upset you.", "non_apology"),
        ("Oh you poor thing.", "pity"),
        ("I guarantee this will never happen again.", "impossible_promise"),
        ("You should have read the terms.", "blame"),
        ("I'll escalate to tier 2 per the SLA.", "jargon"),
    ],
)
def test_lint_catches_bad_practice(text, code):
    assert code in {p["code"] for p in rules.lint(text)}


@pytest.mark.parametrize(
    "text",
    ["I'm so sorry this happened.", "I'll look into it and call you back by 5pm.", "We let you down, and I'm sorry."],
)
def test_lint_passes_good_practice(text):
    assert rules.lint(text) == []


def test_files_round_trip_json_and_csv(store):
    store.apply_import(
        [phrase(id="x-1", text='Comma, "quote"\nand newline', emotions=["sad", "angry"], channels=["email"]),
         phrase(id="x-2", use_when="When they're waiting", fallback="")],
        "ana",
    )
    exported = store.export()
    for fmt in ("json", "csv"):
        plan = store.plan_import(parse_phrases(dump_phrases(exported, fmt), fmt))
        assert len(plan["unchanged"]) == 2 and not plan["rejected"], fmt


@pytest.mark.parametrize("text, emotions, warned", [
    ("Of course you're angry. Let's put this right.", ["angry", "frustrated"], True),
    ("Of course you're angry. Let's put this right.", ["angry"], False),
    ("I understand your frustration, and I'll sort it.", [], True),  # empty = shown for any emotion
    ("I can hear how worried you are.", ["anxious"], False),
    ("Anyone would feel the same in your place.", ["angry", "frustrated"], False),
    ("I know how confusing our bills can be.", ["confused", "frustrated"], False),  # names the bill, not them
])
def test_lint_warns_when_a_named_feeling_may_be_wrong(text, emotions, warned):
    problems = [p for p in lint.lint_phrase({"text": text, "emotions": emotions}) if p["code"] == "names_other_feeling"]
    assert bool(problems) is warned
    assert all(p["severity"] == "warn" and p["field"] == "emotions" for p in problems)
