"""Lint a phrase before it is saved: what blocks it, and what needs a second look.

Combines the wording rules (``rules.lint`` on the text and the fallback), the
template checks (unknown slots, stray braces, a slotted phrase without a
fallback), length, and near-duplicates found by the caller (embedding cosine
with phrases already in the bank).  Blocking problems can never be saved;
warnings are saved only after the admin confirms ("save anyway").
"""

import re

from . import rules, templates

# Cosine between a draft and an existing phrase above which they say nearly the same thing.
NEAR_DUPLICATE = 0.9


def _problem(code, severity, field, message, match="", **extra):
    return {"code": code, "severity": severity, "field": field, "message": message, "match": match, **extra}


def _wording(field, text):
    return [_problem(p["code"], p["severity"], field, p["message"], p["match"]) for p in rules.lint(text)]


def _template(text, fallback):
    problems = []
    for name in templates.slots_in(text):
        if name not in templates.SLOTS:
            problems.append(_problem("unknown_slot", "block", "text",
                                     f"Unknown slot {{{name}}}: slots are {', '.join(templates.SLOTS)}.",
                                     f"{{{name}}}"))
    if templates.template_problems(text) and not problems:
        problems.append(_problem("bad_braces", "block", "text",
                                 "Unbalanced or malformed braces: slots look like {first_name}."))
    if fallback and (templates.slots_in(fallback) or "{" in fallback or "}" in fallback):
        problems.append(_problem("fallback_slots", "block", "fallback",
                                 "The fallback is shown when slots cannot be filled, so it must not use any."))
    if templates.slots_in(text) and not fallback:
        problems.append(_problem("no_fallback", "warn", "fallback",
                                 "Uses slots but has no fallback: when the CRM lacks a fact the phrase is skipped."))
    return problems


def _length(field, text):
    if len(text) > rules.MAX_PHRASE_CHARS:
        return [_problem("too_long", "block", field,
                         f"{len(text)} characters: the limit is {rules.MAX_PHRASE_CHARS}.")]
    return []  # rules.lint already warns above LONG_PHRASE_CHARS


# Words that name the customer's feeling, by the emotion they name.
_FEELING_WORDS = {
    "angry": "angry|furious|livid|anger|fury", "frustrated": "frustrated|frustration|fed up",
    "anxious": "anxious|worried|nervous|anxiety|worry", "confused": "confused|confusion",
    "disappointed": "disappointed|disappointment|let down", "sad": "sad|sadness|heartbroken|grief",
}
_NAMED_FEELING = re.compile(
    r"\b(?:you're|you are|you feel|you must be|you're feeling|how|your|so of course you're)\s+"
    r"(?:so |really |very |completely |understandably )?(" + "|".join(_FEELING_WORDS.values()) + r")\b",
    re.IGNORECASE)


def _named_feelings(text, emotions):
    """A warning when the text tells the customer how they feel but is tagged for other feelings too.

    "Of course you're angry" said to a frustrated or anxious customer puts a
    feeling in their mouth, which is what empathy must not do.
    """
    named = set()
    for match in _NAMED_FEELING.finditer(text):
        word = match.group(1).lower()
        named |= {e for e, words in _FEELING_WORDS.items() if re.fullmatch(words, word)}
    if not named:
        return []
    others = [e for e in emotions if e not in named] if emotions else ["any emotion"]
    if not others:
        return []
    said = ", ".join(sorted(named))
    return [_problem("names_other_feeling", "warn", "emotions",
                     f"The text names the customer's feeling ({said}) but the phrase is also for "
                     f"{', '.join(others)}: tag it only for {said}, or word it for every feeling it is tagged with.",
                     said)]


def lint_phrase(phrase, near=()):
    """Every problem of a phrase draft: a list of {code, severity, field, message, match, ...}.

    ``phrase`` has ``text`` and optionally ``fallback``; ``near`` is
    ``[(existing phrase, cosine), ...]`` from the bank (see
    ``search.BankVectors.nearest``), each of which becomes a near-duplicate
    warning naming the phrase.
    """
    text = (phrase.get("text") or "").strip()
    fallback = (phrase.get("fallback") or "").strip()
    if not text:
        return [_problem("missing", "block", "text", "Write the phrase text.")]
    problems = _wording("text", text) + _length("text", text)
    if fallback:
        problems += _wording("fallback", fallback) + _length("fallback", fallback)
    problems += _template(text, fallback)
    problems += _named_feelings(text, phrase.get("emotions") or [])
    for other, cosine in near:
        problems.append(_problem(
            "near_duplicate", "warn", "text",
            f"Says nearly the same as {other['id']} ({other['status']}, similarity {cosine:.2f}): "
            "edit that one instead, or make this one clearly different.",
            other["text"], phrase_id=other["id"], similarity=round(cosine, 3)))
    return problems


def blocking(problems):
    """Problems that prevent saving."""
    return [p for p in problems if p["severity"] == "block"]


def warnings(problems):
    """Problems that need an explicit "save anyway"."""
    return [p for p in problems if p["severity"] == "warn"]


def warning_key(problem):
    """A stable name for one warning, so a confirmation covers exactly the warnings that were shown."""
    return f"{problem['code']}:{problem['field']}:{problem.get('phrase_id') or problem['match']}"[:200]
