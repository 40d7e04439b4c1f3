"""Real services the integration tests run against: NocoDB and SeaweedFS S3.

Each service lives in its own module (:mod:`tests.services.nocodb`,
:mod:`tests.services.seaweedfs`); this package holds the process helpers both use.
Services listen on 127.0.0.1 only, are started detached from the calling process
(they survive it, so a test session can reuse them), and keep every heavy or
stateful thing in the cache directory, outside the repository.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from talking_head_dagster.process_state import pid_alive

HOST = "127.0.0.1"


def cache_dir() -> Path:
    """``$TALKING_HEAD_CACHE`` or ``~/.cache/talking-head-dagster`` (created)."""
    raw = os.environ.get("TALKING_HEAD_CACHE") or str(Path.home() / ".cache" / "talking-head-dagster")
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def port_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a port number") from None
    if not 0 < port < 65536:
        raise ValueError(f"{name}={port} is out of range")
    return port


def port_is_open(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive advisory lock, so concurrent test processes don't install/start twice."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    tail = text.splitlines()[-lines:]
    return f"--- last {len(tail)} lines of {path} ---\n" + "\n".join(tail)


def spawn_detached(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log_file: Path,
    pid_file: Path,
) -> int:
    """Start ``argv`` in the background, detached from this process, and return its pid.

    A throw-away ``/bin/sh`` (in a new session) backgrounds the command and exits at once, so the
    service is re-parented to init: it outlives the caller, never becomes our zombie, and Python
    never warns about a still-running ``Popen``. Output (stdout+stderr) is appended to ``log_file``.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(argv)}\n".encode())
    launcher = '"$@" </dev/null >>"$LOG" 2>&1 & echo "$!"'
    done = subprocess.run(
        ["/bin/sh", "-c", launcher, "sh", *argv],
        cwd=cwd,
        env={**env, "LOG": str(log_file)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        start_new_session=True,
        check=True,
        timeout=30,
    )
    pid = int(done.stdout.decode().strip())
    pid_file.write_text(f"{pid}\n")
    return pid


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def pid_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def stop_pid_file(pid_file: Path, expect_in_cmdline: str, timeout: float = 20.0) -> bool:
    """SIGTERM (then SIGKILL) the process recorded in ``pid_file``; True when one was stopped.

    The pid is only signalled while its command line still contains ``expect_in_cmdline``, so a
    stale pid file can never kill an unrelated process that reused the pid.
    """
    pid = read_pid(pid_file)
    if pid is None:
        return False
    if not pid_alive(pid) or expect_in_cmdline not in pid_cmdline(pid):
        pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            break
        time.sleep(0.2)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        while pid_alive(pid) and time.monotonic() < deadline + 5:
            time.sleep(0.1)
    pid_file.unlink(missing_ok=True)
    return True
