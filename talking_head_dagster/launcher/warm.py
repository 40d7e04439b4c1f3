"""A local run launcher that forks each run's worker from a process that has already imported it all.

Dagster's local launcher asks the code location's server to spawn a fresh interpreter per run,
which imports Dagster and the project and builds the definitions before the first step: seconds
of a row's time, and CPU that two cores would rather spend on rendering. ``WarmRunLauncher`` keeps
one warm process per code location (``launcher/zygote.py``) that has done that once; each run is a
``fork`` of it, executing exactly what ``dagster api execute_run`` executes. It stays a
``DefaultRunLauncher``: the worker records its pid the same way (the dead-run sweep reads it), and
whatever the warm process cannot start goes through the code server as before.

- The first run of a code location after the daemon starts waits for its warm process (a cold
  start, as before); later runs fork at once.
- A code location reloaded in the UI gets a new warm process; the old one exits once its runs end.
- Cancelling a warm run interrupts its worker (SIGINT), which ends the run as cancelled.
"""

import contextlib
import os
import select
import signal
import subprocess
import threading
from collections.abc import Mapping
from typing import Any

from dagster._core.errors import DagsterLaunchFailedError
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.launcher.base import LaunchRunContext
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._serdes import serialize_value
from dagster._serdes.config_class import ConfigurableClassData

from talking_head_dagster.launcher.protocol import READY, ZYGOTE_MODULE

WARM_TAG = "talking_head/warm_start"  # on runs whose worker was forked from the warm process


class WarmProcessError(Exception):
    """The warm process could not start or answer."""


class WarmProcess:
    """One warm process (``zygote.py``) for one code location, and its line protocol."""

    def __init__(self, repository_origin, ready_timeout_s: float):
        code_pointer = repository_origin.code_pointer
        self.process = subprocess.Popen(
            [
                repository_origin.executable_path,
                "-m",
                ZYGOTE_MODULE,
                serialize_value(repository_origin),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=getattr(code_pointer, "working_directory", None) or None,
            text=True,
            bufsize=1,
        )
        answer = self._read_line(ready_timeout_s)
        if answer != READY:
            self.retire()
            raise WarmProcessError(f"the warm process did not start: {answer or 'it exited'}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, request: str, timeout_s: float = 30) -> int:
        """The pid of a new run worker for ``request`` (a serialized ``ExecuteRunArgs``)."""
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(request + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WarmProcessError(f"the warm process is gone ({exc})") from exc
        answer = self._read_line(timeout_s)
        if not answer.isdigit():
            raise WarmProcessError(answer or "the warm process exited")
        return int(answer)

    def retire(self) -> None:
        """No more runs: the process exits once the runs it forked have ended."""
        if self.process.stdin and not self.process.stdin.closed:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        threading.Thread(target=self.process.wait, daemon=True).start()  # reaped, never a zombie

    def _read_line(self, timeout_s: float) -> str:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout_s)
        if not ready:
            return f"no answer within {timeout_s:.0f} s"
        return self.process.stdout.readline().strip()


class WarmRunLauncher(DefaultRunLauncher):
    """Forks each run's worker from a warm process per code location; the code server otherwise.

    Config: ``ready_timeout_seconds`` (how long the first run waits for a warm process to import,
    default 300 like a code server's start-up).
    """

    def __init__(self, inst_data: ConfigurableClassData | None = None, ready_timeout_seconds: float = 300):
        super().__init__(inst_data=inst_data)
        self._ready_timeout_s = ready_timeout_seconds
        self._warm: dict[str, tuple[str | None, WarmProcess]] = {}
        self._lock = threading.Lock()

    @classmethod
    def config_type(cls):
        from dagster import Field

        return {"ready_timeout_seconds": Field(float, is_required=False, default_value=300.0)}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]):
        return cls(inst_data=inst_data, **config_value)

    def launch_run(self, context: LaunchRunContext) -> None:
        """Fork the run's worker from its location's warm process; the code server when there is none.

        Steps: 1. the warm process of the run's code location (started, and waited for, when there
        is none or the location was reloaded); 2. fork the worker. A warm process that cannot start
        hands the run to the code server; once the request is sent, a failure fails the launch
        (the worker may exist: never a second one).
        """
        run = context.dagster_run
        origin = run.job_code_origin
        if origin is None:
            return super().launch_run(context)
        # 1. The location's warm process.
        try:
            warm = self._warm_process(origin.repository_origin, _server_id(context, run))
        except WarmProcessError as exc:
            self._instance.report_engine_event(
                f"Starting the run through the code server: {exc}.", run, cls=self.__class__
            )
            return super().launch_run(context)
        # 2. Its fork runs the run.
        from dagster._grpc.types import ExecuteRunArgs

        args = ExecuteRunArgs(job_origin=origin, run_id=run.run_id, instance_ref=self._instance.get_ref())
        request = serialize_value(args)
        self._instance.add_run_tags(run.run_id, {WARM_TAG: "true"})
        try:
            with self._lock:
                warm.fork(request)
        except WarmProcessError as exc:
            raise DagsterLaunchFailedError(f"The warm run process could not start the run: {exc}") from exc
        self._run_ids.add(run.run_id)

    def _warm_process(self, repository_origin, server_id: str | None) -> WarmProcess:
        key = serialize_value(repository_origin)
        with self._lock:
            known = self._warm.get(key)
            if known and known[0] == server_id and known[1].alive():
                return known[1]
            if known:
                known[1].retire()
                del self._warm[key]
            warm = WarmProcess(repository_origin, self._ready_timeout_s)
            self._warm[key] = (server_id, warm)
            return warm

    def terminate(self, run_id: str) -> bool:
        """A warm run's worker is interrupted (it ends the run as cancelled); others via their code server."""
        run = self._instance.get_run_by_id(run_id) if self.has_instance else None
        if not run or run.is_finished:
            return False
        if GRPC_INFO_TAG in run.tags or WARM_TAG not in run.tags:
            return super().terminate(run_id)
        from talking_head_dagster.sensors.dead_runs import worker_pid

        self._instance.report_run_canceling(run)
        pid = worker_pid(self._instance, run_id)
        if pid is None:
            self._instance.report_engine_event(
                "The run's worker has not started yet: it is cancelled when it starts.", run, cls=self.__class__
            )
            return False
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            return False
        return True

    def dispose(self) -> None:
        with self._lock:
            for _server_id, warm in self._warm.values():
                warm.retire()
            self._warm.clear()
        super().dispose()


def _server_id(context: LaunchRunContext, run) -> str | None:
    """The code server's id: it changes when the location is reloaded (new code, new warm process)."""
    try:
        location = context.workspace.get_code_location(
            run.remote_job_origin.repository_origin.code_location_origin.location_name
        )
        return getattr(location, "server_id", None)
    except Exception:  # no workspace, or a location without a server: key on the origin alone
        return None
