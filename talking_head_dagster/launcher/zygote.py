"""The warm process: Dagster's run worker and a code location imported once, forked for every run.

    python -m talking_head_dagster.launcher.zygote <serialized RepositoryPythonOrigin>

Protocol with ``WarmRunLauncher`` (one line each way per run): the launcher writes a serialized
``ExecuteRunArgs``; this process forks, the child executes the run exactly as
``dagster api execute_run`` would, and this process answers with the child's pid. The first line
it writes, ``ready``, says the imports are done. On end of input it waits for its runs and exits.

The child closes the protocol pipes before running and writes its logs to stderr, as a worker the
code server spawned does. Ended workers are collected every second (no SIGCHLD handler: a worker's
stages wait on their own FFmpeg); one that died abnormally (killed, crashed) has its run failed at
once, as the code server does for its workers (``crash.py``).
"""

import os
import select
import signal
import sys
import threading
import time
import traceback

from talking_head_dagster.launcher.protocol import ERROR, READY

REAP_INTERVAL_S = 1.0


def _reap(workers: dict[int, str]) -> None:
    """Collect every child that has ended; a run worker that died abnormally gets its run failed."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        request = workers.pop(pid, None)
        exit_code = os.waitstatus_to_exitcode(status)
        if request is not None and exit_code != 0:
            _in_child(_report, request, pid, exit_code)


def _report(request: str, pid: int, exit_code: int) -> None:
    from talking_head_dagster.launcher.crash import report_crashed_worker

    report_crashed_worker(request, pid, exit_code)


def _in_child(work, *args) -> int:
    """Fork; the child runs ``work(*args)`` with ordinary signal handling and stdout on stderr, then exits."""
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # cancelling a run interrupts it
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(2, 1)  # the protocol's stdout is the launcher's: logs go to stderr
        sys.stdin = open(os.devnull)  # noqa: SIM115 (the process ends below)
        work(*args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _execute(request: str) -> None:
    """A run worker: what ``dagster api execute_run`` executes."""
    from dagster._cli.api import execute_run_command

    execute_run_command.callback(input_json=request, compressed_input_json=None)


def serve(repository_origin: str) -> int:
    """Import, say ready, then fork a run worker for every request line until the input ends.

    Steps: 1. import Dagster's run worker and build the code location's definitions, as a run
    would; 2. answer each request with the forked worker's pid (or ``error <reason>`` when this
    process may not fork); 3. at the end of input, wait for the workers still running.
    """
    # 1. The imports and the definitions every run needs.
    import dagster._cli.api  # noqa: F401
    from dagster._core.origin import RepositoryPythonOrigin
    from dagster._serdes import deserialize_value
    from dagster._utils.hosted_user_process import recon_repository_from_origin

    recon_repository_from_origin(deserialize_value(repository_origin, RepositoryPythonOrigin)).get_definition()
    out = sys.stdout
    out.write(f"{READY}\n")
    out.flush()

    # 2. One fork per request; ended children are collected every second.
    workers: dict[int, str] = {}
    while True:
        _reap(workers)
        if not select.select([sys.stdin], [], [], REAP_INTERVAL_S)[0]:
            continue
        line = sys.stdin.readline()
        if not line:
            break
        request = line.strip()
        if not request:
            continue
        if threading.active_count() > 1:  # a fork would copy a thread's locks mid-use
            out.write(f"{ERROR} the warm process has {threading.active_count()} threads\n")
            out.flush()
            continue
        pid = _in_child(_execute, request)
        workers[pid] = request
        out.write(f"{pid}\n")
        out.flush()

    # 3. The launcher is gone or retired this process: the runs it started finish first.
    while workers:
        _reap(workers)
        time.sleep(REAP_INTERVAL_S)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is for the runs, which cancel
    sys.exit(serve(sys.argv[1]))
