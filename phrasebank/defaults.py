"""The default phrase bank that ships with assist."""

from pathlib import Path

from .io import read_phrase_file

DEFAULT_BANK = Path(__file__).parent / "data" / "default_phrases.yaml"


def default_phrases():
    """The shipped phrases, each approved and authored by 'assist'."""
    return [{"status": "approved", **row} for row in read_phrase_file(DEFAULT_BANK)]


def load_default_bank(store, author="assist"):
    """Add shipped phrases whose ids are not in the bank yet; never touch existing ones.

    Safe to run any number of times, and an admin's edits to a default phrase
    survive a re-run.  Returns the number of phrases added.
    """
    existing = {p["id"] for p in store.list()}
    new = [p for p in default_phrases() if p["id"] not in existing]
    if new:
        store.apply_import(new, author)
    return len(new)
