"""How a failed render reads at the console: what failed, why, what to do, and an exit code per kind.

Without ``--verbose`` the render's own stderr (Dagster's log lines and stack traces, native
libraries' log lines such as mediapipe's) goes to a log file, and the console shows only the
progress and, on failure, two lines.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from talking_head_dagster.failures import Kind

# Documented in the README ("The command line"); 2 is argparse's usage error.
EXIT_CODES = {Kind.UNEXPECTED: 1, Kind.INPUT: 3, Kind.DEPLOYMENT: 4, Kind.TEMPORARY: 5, Kind.CHECK: 6}

ADVICE = {
    Kind.INPUT: "Fix the row's URL or script (or the portrait) and render it again.",
    Kind.DEPLOYMENT: "Fix this machine's setup (`talking-head doctor` shows what is missing), then render again.",
    Kind.TEMPORARY: "A service stayed unavailable through every retry: check it, or render again later.",
    Kind.CHECK: "The video was not published; adjust the settings the check names and render again.",
    Kind.UNEXPECTED: "Run again with --verbose to see the full log, and report it if it persists.",
}


def explain(message: str, kind: Kind, log_file: Path | None = None) -> str:
    """Two lines: the failure, then what to do (and where the full log is)."""
    advice = ADVICE[kind]
    if log_file is not None and kind == Kind.UNEXPECTED:
        advice = f"{advice} Full log: {log_file}"
    return f"error: {message}\n  what to do: {advice}"


@contextmanager
def console_stream(verbose: bool, log_file: Path) -> Iterator[TextIO]:
    """A stream to the terminal's stderr; unless ``verbose``, file descriptor 2 goes to ``log_file`` meanwhile.

    Native code (C++ logging) writes to descriptor 2 directly, so redirecting ``sys.stderr`` alone
    would not silence it; ``sys.stderr`` is redirected too, for Python writers that do not use
    descriptor 2 (a test's capture).
    """
    if verbose:
        yield sys.stderr
        return
    sys.stderr.flush()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    saved_fd, saved_stream = os.dup(2), sys.stderr
    terminal = os.fdopen(os.dup(saved_fd), "w", buffering=1, encoding="utf-8", errors="replace")
    log = open(log_file, "w", buffering=1, encoding="utf-8", errors="replace")  # noqa: SIM115 (closed below)
    os.dup2(log.fileno(), 2)
    sys.stderr = log  # Python's own writers (logging handlers made meanwhile) too, wherever stderr pointed
    try:
        yield terminal
    finally:
        sys.stderr = saved_stream
        log.flush()
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        log.close()
        terminal.close()
