"""Fill phrase templates with CRM facts, safely.

Templates use single-brace slots such as ``{first_name}``.  Rendering is plain
substitution of known slot names (no attribute access, no format specs, no
expressions), so a template can never reach into Python objects, and CRM values
are inserted as text.  A phrase whose slots cannot all be filled falls back to
its slot-free variant, or is skipped; no brace ever reaches an agent.
"""

import re

SLOTS = (
    "first_name",
    "contact_count",
    "contact_count_ordinal",
    "issue",
    "first_contact_date",
    "days_open",
    "ticket_id",
    "agent_name",
)
SLOT_PATTERN = re.compile(r"\{([a-z_]+)\}")
_ANY_BRACE = re.compile(r"[{}]")
_ORDINALS = (
    "zeroth first second third fourth fifth sixth seventh eighth ninth tenth "
    "eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth "
    "eighteenth nineteenth twentieth"
).split()


def slots_in(template):
    """Return the slot names a template uses, in order of first appearance."""
    seen = []
    for name in SLOT_PATTERN.findall(template):
        if name not in seen:
            seen.append(name)
    return seen


def template_problems(template):
    """Return a list of (problem) strings: unknown slots or stray braces."""
    problems = [f"unknown slot {{{name}}}" for name in slots_in(template) if name not in SLOTS]
    if _ANY_BRACE.search(SLOT_PATTERN.sub("", template)):
        problems.append("unbalanced or malformed braces (slots look like {first_name})")
    return problems


def ordinal(n):
    """Spell a small ordinal ("third"); larger numbers as "21st"."""
    n = int(n)
    if 0 <= n < len(_ORDINALS):
        return _ORDINALS[n]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _clean(value):
    """CRM text is attacker-controlled: keep it one short line with no template braces."""
    text = " ".join(str(value).split())
    return _ANY_BRACE.sub("", text)[:120]


def render(template, facts, fallback=None):
    """Fill ``template`` from ``facts``; return None when neither it nor ``fallback`` can be filled.

    ``facts`` maps slot names to values; ``None`` or empty values count as missing.
    """
    names = slots_in(template)
    values = {k: _clean(v) for k, v in (facts or {}).items() if v not in (None, "")}
    if "contact_count" in values and "contact_count_ordinal" not in values:
        values["contact_count_ordinal"] = ordinal(facts["contact_count"])
    if all(name in values for name in names):
        text = SLOT_PATTERN.sub(lambda m: values[m.group(1)], template)
        if not _ANY_BRACE.search(SLOT_PATTERN.sub("", template)):
            return text
    if fallback and not slots_in(fallback) and not _ANY_BRACE.search(fallback):
        return fallback
    return None
