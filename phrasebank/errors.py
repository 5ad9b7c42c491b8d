"""Errors raised by the phrase bank, each with a message safe to show a user."""


class PhraseBankError(Exception):
    """Base error: ``status`` is the HTTP status an API should answer with."""

    status = 400
    code = "phrasebank_error"

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidPhrase(PhraseBankError):
    """A phrase (or an imported row) fails validation; ``field`` names what is wrong."""

    code = "invalid_phrase"


class PhraseNotFound(PhraseBankError):
    """No phrase has the requested id."""

    status = 404
    code = "not_found"


class VersionConflict(PhraseBankError):
    """The phrase changed since the caller read it (optimistic locking)."""

    status = 409
    code = "version_conflict"
