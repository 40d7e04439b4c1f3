"""Error classes that decide how a failure is treated.

A ``PermanentInputError`` is the user's to fix (bad URL, empty script, no face in the
portrait...): the row fails at once with the message, and retrying cannot help.
A ``TransientError`` is the world's fault (timeouts, 5xx, connection refused): it is worth
retrying with backoff.
A ``DeploymentError`` is the operator's to fix (no GPU, weights or upstream checkout missing):
nothing about the row is wrong, it renders once the machine is set up, and retrying before
that cannot help.
"""


class TalkingHeadError(Exception):
    """Base class for the errors this project raises on purpose."""


class PermanentInputError(TalkingHeadError):
    """The input (row, portrait, configuration) cannot be rendered; the message says what to change."""


class TransientError(TalkingHeadError):
    """A temporary failure of an outside service; retrying later may succeed."""


class DeploymentError(TalkingHeadError):
    """This machine or deployment cannot run what the configuration asks for; the message says what to set up.

    Not a ``PermanentInputError``: nothing about the row is wrong, and the same row renders once the
    operator has fixed the machine (then re-run it). Not a ``TransientError``: waiting does not help.
    """
