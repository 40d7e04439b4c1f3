"""FFmpeg dies with the run worker that started it: a killed run leaves nothing encoding for nobody."""

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn`` for FFmpeg: on Linux, SIGKILL it when the worker (the thread that started it) ends.

    If the worker died between the fork and this call, the child exits at once. Elsewhere a no-op.
    """
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
