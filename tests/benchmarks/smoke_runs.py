"""The benchmarks' smoke runs (tests/benchmarks/test_smoke.py checks them), started in the background.

The runs take minutes and mostly wait on daemons, so the root conftest starts them with the session,
whatever order the tests run in: two at a time, those that start the test services first. The file
then costs about the longest run, not the sum.
"""

import importlib.util
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import REPO, stop

BENCHMARKS = REPO / "benchmarks"
TIMEOUT_S = 600
NO_TORCH = "PyTorch is not installed (`uv sync --extra gpu` installs it): the real upstream code cannot run"


def _source(name: str) -> str:
    return (BENCHMARKS / name).read_text()


def scripts() -> list[str]:
    """The benchmarks a user runs: every ``benchmarks/*.py`` with a ``__main__`` block."""
    return sorted(
        p.name for p in BENCHMARKS.glob("*.py") if re.search(r"^if __name__ == .__main__.:", _source(p.name), re.M)
    )


@dataclass(frozen=True)
class Smoke:
    """One smoke run: a script, with arguments after ``--smoke``."""

    script: str
    extra: tuple[str, ...] = ()
    needs_torch: bool = False

    @property
    def name(self) -> str:
        return " ".join((self.script, *self.extra))

    @property
    def needs_services(self) -> bool:
        return "tests.services" in _source(self.script)

    @property
    def runnable(self) -> bool:
        return not self.needs_torch or importlib.util.find_spec("torch") is not None

    def param(self):
        marks = [pytest.mark.integration] if self.needs_services else []
        if self.needs_torch:
            marks.append(pytest.mark.skipif(not self.runnable, reason=NO_TORCH))
        return pytest.param(self, id=self.name, marks=marks)


# Beyond the default smoke run: the pinned upstream code itself, patched onto the CPU (flashhead_cpu.py).
TORCH_RUNS = [Smoke("flashhead.py", ("--device", "cpu"), needs_torch=True)]
RUNS = [Smoke(script) for script in scripts()] + TORCH_RUNS


@dataclass
class Started:
    future: Future
    out: Path
    log: Path


def _run(run: Smoke, out: Path, log: Path, processes: list, stopping: threading.Event) -> int | str:
    if stopping.is_set():
        return "not started: the session is ending"
    command = [sys.executable, str(BENCHMARKS / run.script), "--smoke", "--out", str(out), *run.extra]
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=REPO, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    processes.append(process)
    if stopping.is_set():  # the session ended while it started
        stop(process)
    try:
        return process.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        stop(process)
        return f"still running after {TIMEOUT_S} s"


@pytest.fixture(scope="session")
def smoke_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The selected, runnable smoke runs, started in the background; stopped at the session's end."""
    selected = [item.callspec.params["run"] for item in request.session.items if is_smoke_item(item)]
    wanted = sorted({run for run in selected if run.runnable}, key=lambda run: (not run.needs_services, run.name))
    folder = tmp_path_factory.mktemp("benchmarks")
    processes: list[subprocess.Popen] = []
    stopping = threading.Event()
    started = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for index, run in enumerate(wanted):
            out, log = folder / f"{index}-out", folder / f"{index}.log"
            started[run] = Started(pool.submit(_run, run, out, log, processes, stopping), out, log)
        try:
            yield started
        finally:
            stopping.set()
            for process in list(processes):
                stop(process)


def is_smoke_item(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and isinstance(callspec.params.get("run"), Smoke)
