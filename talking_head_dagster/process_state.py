"""Whether a process of this machine still runs: for run workers the local launcher started, and test services."""

import os
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs on this machine; a zombie (killed, not yet reaped by its parent) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):  # no /proc (macOS): kill's answer stands
        return True
    return state not in ("Z", "X")
