"""The NocoDB server process: ``start()`` installs if needed and starts NocoDB detached unless it
already answers on its port, ``stop()`` stops it by its pid file, and ``is_running()`` asks
NocoDB's health endpoint.
"""

from __future__ import annotations

import os
import time
from typing import Any

import requests

from tests.services import (
    HOST,
    file_lock,
    log_tail,
    pid_alive,
    pid_cmdline,
    port_is_open,
    read_pid,
    spawn_detached,
    stop_pid_file,
)
from tests.services.nocodb_config import PORT_ENV, NocoDBServiceError, base_url, log_file, pid_file, port, state_dir
from tests.services.nocodb_install import install
from tests.services.nocodb_node import node_executable

READY_TIMEOUT_ENV = "TALKING_HEAD_TEST_NOCODB_READY_TIMEOUT"
# A first start on a fresh database runs NocoDB's migrations: ~10 s on an idle machine, but 90 s
# was seen on a loaded 2-core one. The wait ends early with the log tail if the process dies.
DEFAULT_READY_TIMEOUT = 300.0
JWT_SECRET = "talking-head-dagster-test-jwt-secret-not-for-production"


def _health(url: str | None = None, timeout: float = 2.0) -> dict[str, Any] | None:
    """NocoDB's health report (``{"message": "OK", "uptime": ...}``) when it answers, else None."""
    try:
        response = requests.get(f"{url or base_url()}/api/v1/health", timeout=timeout)
    except requests.RequestException:
        return None
    if response.status_code != 200:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and body.get("message") == "OK" else None


def is_running() -> bool:
    return _health() is not None


def _start_process() -> int:
    target = install()
    state = state_dir()
    db_path = state / "noco.db"
    env = dict(os.environ)
    env.pop("NODE_OPTIONS", None)
    env.update(
        HOST=HOST,
        PORT=str(port()),
        NC_DB=f"sqlite3://?q=sqlite3&d={db_path}",
        NC_AUTH_JWT_SECRET=JWT_SECRET,
        NC_DISABLE_TELE="true",
        NC_TOOL_DIR=str(state),
        NODE_ENV="production",
        NO_COLOR="1",  # plain log lines (NestJS colours them otherwise)
        # V8's on-disk compile cache (Node >= 22.1): later starts skip compiling NocoDB's bundle.
        NODE_COMPILE_CACHE=str(target / ".compile-cache"),
        PATH=f"{target / '.node-bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    return spawn_detached(
        [str(node_executable()), str(target / "main.js")],
        cwd=state,
        env=env,
        log_file=log_file(),
        pid_file=pid_file(),
    )


def _wait_ready(pid: int) -> None:
    timeout = float(os.environ.get(READY_TIMEOUT_ENV) or DEFAULT_READY_TIMEOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _health() is not None:
            return
        if not pid_alive(pid):
            raise NocoDBServiceError(f"NocoDB (pid {pid}) exited while starting\n{log_tail(log_file())}")
        time.sleep(0.5)
    raise NocoDBServiceError(
        f"NocoDB (pid {pid}) did not answer on {base_url()} within {timeout:.0f}s\n{log_tail(log_file())}"
    )


def start() -> None:
    """Start NocoDB in the background unless it already answers on :func:`port`."""
    with file_lock(state_dir() / "start.lock"):
        if is_running():
            return
        pid = read_pid(pid_file())
        if pid is not None and pid_alive(pid) and "main.js" in pid_cmdline(pid):
            _wait_ready(pid)  # ours, still starting (or started by a process that gave up waiting)
            return
        if port_is_open(port()):
            raise NocoDBServiceError(
                f"port {HOST}:{port()} is taken by something that is not NocoDB; "
                f"stop it or set {PORT_ENV} to another port"
            )
        pid = _start_process()
        _wait_ready(pid)


def stop() -> None:
    """Stop the NocoDB started by :func:`start` (by its pid file); a no-op when none runs."""
    stop_pid_file(pid_file(), expect_in_cmdline="main.js")
