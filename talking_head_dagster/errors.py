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


# The kinds of permanent input errors: each fails the row at once, with its message in the row.


class InvalidURLError(PermanentInputError):
    """The source URL is not an http(s) link to a host."""


class ForbiddenHostError(PermanentInputError):
    """The source URL (or a redirect) leads to an address the downloader must not reach (SSRF)."""


class TooManyRedirectsError(PermanentInputError):
    """The source URL redirects more often than the configured limit."""


class SourceNotFoundError(PermanentInputError):
    """The source URL's host does not exist, or the server answers 'not found'."""


class UnsupportedSourceError(PermanentInputError):
    """There is no video at the source URL (a page without one, a site yt-dlp does not know, not a video)."""


class SourceRemovedError(SourceNotFoundError):
    """The site says the video was removed (by its author or the site), or that it is private."""


class SourceTooLargeError(PermanentInputError):
    """The source video is over the byte limit, or downloading it takes longer than the time limit."""


class EmptyScriptError(PermanentInputError):
    """The script has nothing to speak."""


class ScriptTooLongError(PermanentInputError):
    """The script is longer than the configured limit."""


class NoVoiceError(PermanentInputError):
    """No installed voice speaks the script's language, or the requested voice is not installed."""


class RowDeletedError(PermanentInputError):
    """The NocoDB row was deleted while it was being rendered."""


# The kinds of transient errors: each is retried with backoff, within a bounded total wait.


class SourceUnavailableError(TransientError):
    """The source site timed out, refused the connection or answered 5xx/429."""


class SourceBlockedError(SourceUnavailableError):
    """The site asked for a verification (captcha) or rate-limited us: it usually lifts after a while."""


class NocoDBUnavailableError(TransientError):
    """NocoDB timed out, refused the connection or answered 5xx/429."""


class NocoDBGarbageError(NocoDBUnavailableError):
    """NocoDB answered something that is not the JSON its API documents (a proxy page, a truncated body)."""


class StorageUnavailableError(TransientError):
    """The S3 server timed out, refused the connection, answered 5xx or throttled us."""


# The kinds of deployment errors: the operator fixes the setup, retrying before that cannot help.


class NocoDBConfigError(DeploymentError):
    """NocoDB rejected our token, or does not know the table or a configured column."""


class SourceLayoutError(DeploymentError):
    """The site's page no longer holds the data our resolver reads: the resolver needs an update, or
    the deployment an external resolver (nothing about the row is wrong)."""


class StorageConfigError(DeploymentError):
    """The S3 server rejected our credentials, or the bucket does not exist."""
