"""Phrase bank: phrases, embeddings, message understanding and ranking. No Flask here."""

from .errors import InvalidPhrase, PhraseBankError, PhraseNotFound, VersionConflict
from .vocab import CHANNELS, EMOTIONS, KINDS, SITUATIONS, STATUSES

__all__ = [
    "CHANNELS",
    "EMOTIONS",
    "KINDS",
    "SITUATIONS",
    "STATUSES",
    "InvalidPhrase",
    "PhraseBankError",
    "PhraseNotFound",
    "VersionConflict",
]
