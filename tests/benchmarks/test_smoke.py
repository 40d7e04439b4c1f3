"""Every benchmark runs in smoke mode, as a user runs it, so that none can rot unnoticed.

Scripts are found, not listed: each ``benchmarks/*.py`` with a ``__main__`` block runs as
``python benchmarks/<name>.py --smoke --out <tmp>`` (the contract in benchmarks/README.md) and must
exit 0 with its stamped JSON report. Figures are not asserted: timing stays out of tests. The runs
start together when the first of them is asked for, two at a time, those that start the test services
first (they mostly wait on the daemon), so the file costs about the longest run, not the sum.
"""

import importlib.util
import json
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
    selected = [item.callspec.params["run"] for item in request.session.items if _smoke_item(item)]
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


def _smoke_item(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and isinstance(callspec.params.get("run"), Smoke)


@pytest.mark.parametrize("run", [run.param() for run in RUNS])
def test_smoke(run: Smoke, smoke_runs: dict) -> None:
    started = smoke_runs[run]
    outcome = started.future.result()
    tail = started.log.read_text()[-4000:] if started.log.exists() else "(no output)"
    assert outcome == 0, f"`{run.name} --smoke` ended with {outcome}:\n{tail}"
    reports = sorted(started.out.glob("*.json"))
    assert reports, f"`{run.name} --smoke` wrote no JSON report into --out:\n{tail}"
    for path in reports:
        report = json.loads(path.read_text())
        assert report["smoke"] is True
        assert len(report["load_average"]) == 3
        assert report["timestamp"]


def test_every_other_module_is_imported_by_a_script() -> None:
    """A module that no script imports would escape the smoke runs."""
    sources = {name: _source(name) for name in scripts()}
    for module in sorted({p.name for p in BENCHMARKS.glob("*.py")} - set(sources)):
        stem = module.removesuffix(".py")
        pattern = rf"^\s*(from {stem} import|import {stem}\b)"
        assert any(re.search(pattern, text, re.M) for text in sources.values()), f"no benchmark imports {module}"


def test_readme_documents_every_script() -> None:
    readme = (BENCHMARKS / "README.md").read_text()
    missing = [script for script in scripts() if f"`{script}`" not in readme]
    assert not missing, f"benchmarks/README.md does not describe {missing}"
