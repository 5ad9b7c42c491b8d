"""What the admin page modules share: the app's services, the phrase store, and field-by-field diffs."""

from flask import current_app

from phrasebank.phrases import EDITABLE
from phrasebank.store import PhraseStore


def services():
    """This app's Services (database, embedder, engine, ...)."""
    return current_app.extensions["assist"]


def store():
    """A PhraseStore on this thread's connection."""
    return PhraseStore(services().database.get())


def field_changes(before, after):
    """``[{"field", "before", "after"}]`` (values as text) for the editable fields that differ.

    With no ``before`` (a phrase's first version) every non-empty field is listed.
    """
    rows = []
    for name in EDITABLE:
        old = before.get(name) if before else None
        new = after.get(name)
        if old != new and (before or new not in ("", [], None)):
            rows.append({"field": name, "before": _as_text(old), "after": _as_text(new)})
    return rows


def _as_text(value):
    if value is None:
        return ""
    return ", ".join(value) if isinstance(value, list) else str(value)
