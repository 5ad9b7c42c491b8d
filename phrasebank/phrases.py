"""What a phrase is: its fields, their validation, and its text for embedding."""

import hashlib
import re

from . import rules, templates
from .errors import InvalidPhrase
from .vocab import CHANNELS, EMOTIONS, KINDS, SITUATIONS, STATUSES

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
LIST_FIELDS = {"emotions": EMOTIONS, "situations": SITUATIONS, "channels": CHANNELS}
TEXT_FIELDS = ("text", "use_when", "fallback", "author")
# Everything a phrase carries, in export order.
FIELDS = (
    "id",
    "text",
    "kind",
    "emotions",
    "situations",
    "channels",
    "language",
    "status",
    "author",
    "use_when",
    "fallback",
    "created_at",
    "updated_at",
    "version",
)
EDITABLE = ("text", "kind", "emotions", "situations", "channels", "language", "status", "use_when", "fallback")
DEFAULTS = {
    "emotions": [],
    "situations": [],
    "channels": [],
    "language": "en",
    "status": "draft",
    "use_when": "",
    "fallback": "",
}


def _check_text(name, value, required, max_chars):
    if value is None or value == "":
        if required:
            raise InvalidPhrase(f"{name} is required", field=name)
        return ""
    if not isinstance(value, str):
        raise InvalidPhrase(f"{name} must be a string", field=name)
    value = value.strip()
    if required and not value:
        raise InvalidPhrase(f"{name} must not be blank", field=name)
    if len(value) > max_chars:
        raise InvalidPhrase(f"{name} is longer than {max_chars} characters", field=name)
    return value


def _check_list(name, value, allowed):
    if value is None:
        return []
    if isinstance(value, str):  # CSV cells arrive as "a,b"
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidPhrase(f"{name} must be a list of strings", field=name)
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise InvalidPhrase(f"{name}: unknown value {unknown[0]!r}; allowed: {', '.join(allowed)}", field=name)
    return sorted(set(value), key=allowed.index)


def _check_choice(name, value, allowed):
    if not isinstance(value, str) or value not in allowed:
        raise InvalidPhrase(f"{name} must be one of: {', '.join(allowed)}", field=name)
    return value


def validate(data):
    """Return a clean copy of the editable fields of ``data`` or raise InvalidPhrase naming the field.

    ``data`` must hold every field a phrase needs (merge partial updates first).
    """
    if not isinstance(data, dict):
        raise InvalidPhrase("a phrase must be a JSON object", field="phrase")
    clean = {"text": _check_text("text", data.get("text"), True, rules.MAX_PHRASE_CHARS)}
    clean["kind"] = _check_choice("kind", data.get("kind"), KINDS)
    for name, allowed in LIST_FIELDS.items():
        clean[name] = _check_list(name, data.get(name), allowed)
    language = data.get("language") or "en"
    if not isinstance(language, str) or not LANGUAGE_PATTERN.match(language):
        raise InvalidPhrase("language must be a language tag such as 'en' or 'en-GB'", field="language")
    clean["language"] = language
    clean["status"] = _check_choice("status", data.get("status") or "draft", STATUSES)
    clean["use_when"] = _check_text("use_when", data.get("use_when"), False, 300)
    clean["fallback"] = _check_text("fallback", data.get("fallback"), False, rules.MAX_PHRASE_CHARS)
    _check_template(clean)
    _check_rules(clean)
    return clean


def _check_template(clean):
    for problem in templates.template_problems(clean["text"]):
        raise InvalidPhrase(f"text: {problem}", field="text")
    if clean["fallback"] and (templates.slots_in(clean["fallback"]) or "{" in clean["fallback"]):
        raise InvalidPhrase("fallback must not use slots: it is shown when slots cannot be filled", field="fallback")


def _check_rules(clean):
    for field in ("text", "fallback"):
        for problem in rules.blocking(rules.lint(clean[field])):
            raise InvalidPhrase(f"{field}: {problem['message']} (found {problem['match']!r})", field=field)


def check_id(value):
    """Validate a phrase id given by a user."""
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise InvalidPhrase("id must be 1-64 characters of a-z, 0-9, '.', '_' or '-'", field="id")
    return value


def embedding_text(phrase):
    """The text we embed for a phrase: its intended use, then its words without slots."""
    words = phrase.get("fallback") if templates.slots_in(phrase["text"]) and phrase.get("fallback") else None
    words = words or templates.SLOT_PATTERN.sub("", phrase["text"])
    use_when = (phrase.get("use_when") or "").strip()
    return f"{use_when} {words}".strip() if use_when else words


def content_hash(model_name, text):
    """Hash of what gets embedded and by which model: equal hashes share a vector."""
    return hashlib.sha256(f"{model_name}\n{text}".encode()).hexdigest()
