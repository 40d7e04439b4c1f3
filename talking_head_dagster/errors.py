"""Error classes that decide how a failure is treated.

A ``PermanentInputError`` is the user's to fix (bad URL, empty script, no face in the
portrait...): the row fails at once with the message, and retrying cannot help.
A ``TransientError`` is the world's fault (timeouts, 5xx, connection refused): it is worth
retrying with backoff.
"""


class TalkingHeadError(Exception):
    """Base class for the errors this project raises on purpose."""


class PermanentInputError(TalkingHeadError):
    """The input (row, portrait, configuration) cannot be rendered; the message says what to change."""


class TransientError(TalkingHeadError):
    """A temporary failure of an outside service; retrying later may succeed."""
