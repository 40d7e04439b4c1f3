"""Dagster's own processes for the deployment tests: code servers (as compose.yaml starts them) and the daemon."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def compose_services(profiles: list[str] | None = None, overrides: tuple[str, ...] = ()) -> dict[str, dict]:
    """compose.yaml (and ``overrides`` over it) as Docker Compose itself reads it (`docker compose config`)."""
    enabled = [arg for profile in profiles or [] for arg in ("--profile", profile)]
    files = [arg for name in ("compose.yaml", *overrides) for arg in ("-f", str(REPO / name))]
    result = subprocess.run(
        [str(BIN / "docker-compose"), *files, *enabled, "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["services"]


def local_command(service: dict, port: int) -> list[str]:
    """A compose service's command, listening on 127.0.0.1:``port`` here instead of 0.0.0.0:4000 in its container."""
    command = list(service["command"])
    command[command.index("-h") + 1] = "127.0.0.1"
    command[command.index("-p") + 1] = str(port)
    return [str(BIN / command[0]), *command[1:]]


def container_env(service: dict) -> dict[str, str]:
    """The Dagster container image and context a compose service gives its code server."""
    return {k: v for k, v in service.get("environment", {}).items() if k.startswith("DAGSTER_CONTAINER_")}


def prepare_home(home: Path) -> None:
    """Create the SQLite instance storage under ``home`` once, before any Dagster process starts on it.

    A daemon and the code server it spawns otherwise create a fresh home's databases at the same
    moment, and may both stamp a schema version ("alembic_version has more than one head").
    """
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)
        instance.all_instigator_state()


@contextmanager
def started(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A process in its own session, stopped (SIGINT, then SIGKILL) with everything it started."""
    with log.open("a") as out:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def wait_for_code_server(port: int, process: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    """Until the server lists its repository (`dagster code-server start` answers pings while still loading)."""
    from dagster._grpc.client import DagsterGrpcClient

    client = DagsterGrpcClient(port=port, host="127.0.0.1")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"code server exited:\n{log.read_text()[-3000:]}"
        try:
            if "__repository__" in str(client.list_repositories()):
                return
        except Exception:
            pass
        time.sleep(1)
    raise AssertionError(f"code server on port {port} not ready:\n{log.read_text()[-3000:]}")


def until(condition, what: str, logs: Path | list[Path], limit_s: float = 600.0):
    """``condition()``'s first truthy value, polled every second; after ``limit_s``, fail with the logs' tails."""
    deadline = time.monotonic() + limit_s
    while not (found := condition()):
        if time.monotonic() > deadline:
            logs = [logs] if isinstance(logs, Path) else logs
            tails = "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in logs if log.exists())
            raise AssertionError(f"waited in vain for {what}\n{tails}")
        time.sleep(1)
    return found
