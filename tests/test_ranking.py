"""Ranking judged with the real model and the real classifier on messages written for this test.

These messages are not in any training, tuning or held-out file.
"""

import re

import pytest

from phrasebank import rules

FIT = [
    ("This is the THIRD time you've cut off my internet. I'm absolutely livid.", {"angry", "frustrated"}),
    ("I've tried resetting the router five times and nothing works. I'm exhausted by this.", {"frustrated"}),
    ("My rent payment is due tomorrow and your app still shows the transfer as pending. I'm scared it bounces.",
     {"anxious"}),
    ("I don't understand why my bill has two different plan charges on it. What is this second one?",
     {"confused"}),
    ("I've been a loyal customer for ten years and honestly I expected a lot better than this.",
     {"disappointed"}),
    ("My husband passed away last month and I need to close his account.", {"sad"}),
    ("Thank you so much, Priya sorted everything out in five minutes. Brilliant service.", {"grateful"}),
    ("Can you tell me what time your store opens on Saturday?", {"neutral"}),
]

APOLOGY = re.compile(r"\bsorry\b|\bapologi", re.IGNORECASE)


def suggest(client, headers, message, **extra):
    response = client.post("/api/v1/suggest", json={"message": message, "limit": 3, **extra}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def all_suggestions(body):
    return [s for items in body["suggestions"].values() for s in items]


@pytest.mark.parametrize("message, emotions", FIT)
def test_top_empathy_fits_the_emotion(client, agent, message, emotions):
    body = suggest(client, agent, message)
    assert body["emotion"]["label"] in emotions
    top = body["suggestions"]["empathy"][0]
    assert not top["emotions"] or set(top["emotions"]) & emotions, top


@pytest.mark.parametrize("message, _", FIT)
def test_banned_patterns_never_appear(client, agent, message, _):
    for s in all_suggestions(suggest(client, agent, message, limit=10)):
        assert not [p for p in rules.lint(s["text"]) if p["severity"] == "block"], s["text"]
        assert "{" not in s["text"] and "}" not in s["text"]


@pytest.mark.parametrize(
    "message",
    [
        "Thank you so much, Priya sorted everything out in five minutes. Brilliant service.",
        "Just wanted to say the new app update is lovely, cheers!",
        "Can you tell me what time your store opens on Saturday?",
        "Please update my delivery address to 14 Elm Road.",
    ],
)
def test_nothing_apologetic_for_grateful_or_neutral(client, agent, message):
    body = suggest(client, agent, message, limit=10)
    assert body["emotion"]["label"] in ("grateful", "neutral")
    assert body["suggestions"]["apology"] == []
    assert not [s["text"] for s in all_suggestions(body) if APOLOGY.search(s["text"])]


@pytest.mark.parametrize(
    "message",
    [
        "My mum died last week. She had a phone contract with you and I don't know what to do with it.",
        "I'm writing on behalf of my late father's estate to cancel his broadband.",
        "My wife passed away and the direct debit keeps coming out of our joint account.",
    ],
)
def test_nothing_cheerful_for_a_bereavement(client, agent, message):
    body = suggest(client, agent, message, limit=10)
    assert "bereavement" in {s["label"] for s in body["situations"]}
    texts = [s["text"] for s in all_suggestions(body)]
    assert texts
    assert not [t for t in texts if rules.is_cheerful(t)]


def test_situation_lifts_specific_ownership(client, agent):
    body = suggest(client, agent, "I was charged twice for the same order and I want my money back.")
    assert "billing_problem" in {s["label"] for s in body["situations"]}
    assert "billing_problem" in body["suggestions"]["ownership"][0]["situations"]


def test_no_near_duplicates_in_a_list(client, agent, embedder):
    body = suggest(client, agent, "My parcel never arrived and nobody will tell me where it is.", limit=10)
    for items in body["suggestions"].values():
        vectors = embedder.encode([s["text"] for s in items]) if items else []
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                assert float(vectors[i] @ vectors[j]) < 0.95, (items[i]["text"], items[j]["text"])


def test_channel_restricted_phrases_follow_the_channel(client, agent):
    message = "I've been on hold for an hour and I'm really frustrated."
    for channel in ("chat", "email"):
        for s in all_suggestions(suggest(client, agent, message, channel=channel, limit=10)):
            phrase = client.get(f"/api/v1/phrases/{s['id']}", headers=agent).get_json()
            assert not phrase["channels"] or channel in phrase["channels"]


def test_why_explains_the_rank(client, agent):
    body = suggest(client, agent, "You charged me twice this month and I'm furious.")
    why = body["suggestions"]["apology"][0]["why"]
    assert "similar to the message" in why and "billing problem" in why
