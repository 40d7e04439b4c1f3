"""Every benchmark runs in smoke mode, as a user runs it, so that none can rot unnoticed.

Scripts are found, not listed: each ``benchmarks/*.py`` with a ``__main__`` block runs as
``python benchmarks/<name>.py --smoke --out <tmp>`` (the contract in benchmarks/README.md) and must
exit 0 with its stamped JSON report. Figures are not asserted: timing stays out of tests. The runs
start in the background with the session (tests/benchmarks/smoke_runs.py).
"""

import json
import re

import pytest

from tests.benchmarks.smoke_runs import BENCHMARKS, RUNS, Smoke, _source, scripts


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
