"""The shipped phrase bank: coverage, validity and support-practice bans on every phrase."""

import re
from collections import Counter

import pytest

from phrasebank import EMOTIONS, KINDS, SITUATIONS, lint, phrases, rules, templates
from phrasebank.defaults import default_phrases

BANK = default_phrases()

# Said plainly so a reviewer can read the policy; rules.py holds the broader patterns.
NEVER = [
    r"any inconvenience", r"sorry you feel", r"sorry if\b", r"sorry that you feel", r"never happen again",
    r"\bpoor (you|thing)\b", r"\bguarantee", r"calm down", r"you should have", r"\bSLA\b", r"\bkindly\b",
]


def test_bank_is_large_enough():
    assert len(BANK) >= 250
    assert len({p["id"] for p in BANK}) == len(BANK)


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_every_emotion_has_five_empathy_phrases(emotion):
    assert sum(1 for p in BANK if p["kind"] == "empathy" and emotion in p["emotions"]) >= 5


@pytest.mark.parametrize("situation", SITUATIONS)
def test_every_situation_has_three_ownership_phrases(situation):
    assert sum(1 for p in BANK if p["kind"] == "ownership" and situation in p["situations"]) >= 3


def test_every_kind_is_present():
    counts = Counter(p["kind"] for p in BANK)
    assert all(counts[k] >= 10 for k in KINDS), counts


@pytest.mark.parametrize("phrase", BANK, ids=lambda p: p["id"])
def test_phrase_is_valid_and_follows_practice(phrase):
    phrases.validate(phrase)  # raises on bans, unknown slots, bad values
    for field in ("text", "fallback"):
        text = phrase.get(field) or ""
        for pattern in NEVER:
            assert not re.search(pattern, text, re.IGNORECASE), (field, pattern)
        assert not [p for p in rules.lint(text) if p["code"] == "jargon"]
    if templates.slots_in(phrase["text"]):
        assert phrase.get("fallback"), "a slotted phrase needs a slot-free fallback"
    # Never tell a customer they feel something the phrase may be shown for another feeling.
    assert not [p for p in lint.lint_phrase(phrase) if p["code"] == "names_other_feeling"]


@pytest.mark.parametrize("phrase", [p for p in BANK if p["kind"] == "apology"], ids=lambda p: p["id"])
def test_apologies_are_never_for_calm_or_grateful_messages(phrase):
    assert phrase["emotions"], "an apology must say which emotions it answers"
    assert not {"grateful", "neutral"} & set(phrase["emotions"])


@pytest.mark.parametrize(
    "phrase", [p for p in BANK if "bereavement" in p["situations"]], ids=lambda p: p["id"]
)
def test_bereavement_phrases_are_never_cheerful(phrase):
    assert not rules.is_cheerful(phrase["text"])


def test_slotted_phrases_render_without_braces():
    facts = {"first_name": "Ana", "contact_count": 3, "issue": "no connection every evening",
             "first_contact_date": "2 November", "days_open": 9, "ticket_id": "4512", "agent_name": "Sam"}
    slotted = [p for p in BANK if templates.slots_in(p["text"])]
    assert len(slotted) >= 20
    for p in slotted:
        full = templates.render(p["text"], facts, p.get("fallback"))
        empty = templates.render(p["text"], {}, p.get("fallback"))
        assert full and "{" not in full and "}" not in full
        assert empty == p["fallback"]
