"""Support-practice rules: what we never say, and what tone fits which message.

``lint`` is used on every write to the bank (blocking problems reject the
phrase) and by the test that checks the whole default bank.

Block or warn: a rule blocks when the words are wrong in any context (a
non-apology, pity, blame, a promise no agent can keep); it warns when a careful
writer may still have a reason (jargon: a business customer who wrote "SLA"
may be answered with "SLA"; length: some explanations need the room).  The
admin app shows warnings and saves only after an explicit "save anyway";
``phrasebank.lint`` adds the checks that need the whole bank (near-duplicates).  ``is_apologetic``
and ``is_cheerful`` let the ranker keep apologies away from grateful or neutral
messages and cheerfulness away from a bereavement.
"""

import re
from dataclasses import dataclass

MAX_PHRASE_CHARS = 600
# Agents skim: above this a phrase gets a warning; above MAX it is refused.
LONG_PHRASE_CHARS = 280


@dataclass(frozen=True)
class Rule:
    """A pattern we check phrase text against."""

    code: str
    severity: str  # "block" rejects the phrase; "warn" is advice
    pattern: re.Pattern
    message: str


def _rule(code, severity, pattern, message):
    return Rule(code, severity, re.compile(pattern, re.IGNORECASE), message)


RULES = (
    _rule(
        "non_apology",
        "block",
        r"\binconvenien|sorry (that )?you feel|sorry if\b|sorry you('re| are) upset"
        r"|apologi[sz]e(s)? for any|regret any|sorry for any|if (we|I) (have )?(caused|upset)"
        r"|may have caused|sorry you think",
        'Non-apology: apologise for what happened ("I\'m so sorry this happened").',
    ),
    _rule(
        "pity",
        "block",
        r"\bpoor (you|thing)\b|\bI pity\b|feel sorry for you|someone like you",
        "Pity instead of empathy: acknowledge the feeling as an equal.",
    ),
    _rule(
        "impossible_promise",
        "block",
        r"never happen again|\bguarantee|\b100 ?%|\bI promise (it|this|that)\b"
        r"|will (definitely|certainly) be (fixed|resolved)|fixed (right away|immediately)"
        r"|won'?t ever happen",
        "Promise no agent can keep: promise your own next step instead.",
    ),
    _rule(
        "blame",
        "block",
        r"you should have|you didn'?t read|as I (already )?said|calm down|your fault"
        r"|you failed to|per our policy",
        "Blames or lectures the customer.",
    ),
    _rule(
        "jargon",
        "warn",
        r"\bescalat\w* (up )?to (tier|level|the (second|third|2nd|3rd) line)|\btier ?[123]\b|\bL[123]\b"
        r"|\b(1st|2nd|3rd|first|second|third)[ -]line (support|team|agents?)\b"
        r"|\bSLAs?\b|\bback-?end\b|\bprovisioning\b|\btickets?\b|\bper our records\b|\bRMA\b"
        r"|\bas per\b|\bkindly\b|\bper (the )?policy\b|\bescalation matrix\b",
        "Jargon or stiff phrasing: say it in plain words.",
    ),
)

_APOLOGETIC = re.compile(r"\bsorry\b|\bapologi[sz]|\bregret\b|\bforgive\b", re.IGNORECASE)
_CHEERFUL = re.compile(
    r"!|\b(great|glad|happy|awesome|fantastic|wonderful|delighted|exciting|excited|brilliant"
    r"|no problem|no worries|yay|love)\b",
    re.IGNORECASE,
)


def lint(text):
    """Return a list of {code, severity, message, match} problems found in ``text``."""
    problems = []
    for rule in RULES:
        found = rule.pattern.search(text)
        if found:
            problems.append(
                {"code": rule.code, "severity": rule.severity, "message": rule.message, "match": found.group(0)}
            )
    if len(text) > LONG_PHRASE_CHARS:
        problems.append(
            {
                "code": "too_long",
                "severity": "warn",
                "message": f"Over {LONG_PHRASE_CHARS} characters: agents skim; keep it short.",
                "match": "",
            }
        )
    return problems


def blocking(problems):
    """The subset of ``lint`` problems that must reject a phrase."""
    return [p for p in problems if p["severity"] == "block"]


def is_apologetic(text):
    """True when the text apologises (wrong for a grateful or neutral message)."""
    return bool(_APOLOGETIC.search(text))


def is_cheerful(text):
    """True when the text sounds upbeat (wrong for a bereavement)."""
    return bool(_CHEERFUL.search(text))
