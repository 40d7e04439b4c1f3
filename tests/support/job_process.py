"""One run of ``render_record`` in a process of its own, as Dagster's run worker runs it.

The fault tests kill this process in the middle of a stage, then re-execute the run from failure
in theirs: ``python -m tests.support.job_process <partition key> <run key> <version>``. The
deployment comes from the ``TALKING_HEAD_*`` environment, the instance from ``DAGSTER_HOME``.

With ``TALKING_HEAD_TEST_HOLD_COMPOSITE=<file>`` the composite encodes, then starts an FFmpeg that
never ends (a silent source read in real time), the way the stage starts FFmpeg, and writes that
file: a kill then always lands in the middle of the composite with an FFmpeg running, however fast
the machine.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from talking_head_dagster.definitions import build_definitions
from talking_head_dagster.jobs import RENDER_RECORD_JOB
from talking_head_dagster.resources.ffmpeg import FFmpegResource
from talking_head_dagster.sensors.run_history import PARTITION_TAG, RUN_KEY_TAG, VERSION_TAG


def render_record_job() -> dg.JobDefinition:
    """The deployment's job, reconstructable from this module (what re-execution needs)."""
    return build_definitions().resolve_job_def(RENDER_RECORD_JOB)


HOLD_COMPOSITE_ENV = "TALKING_HEAD_TEST_HOLD_COMPOSITE"


NEVER_ENDING = ["-re", "-f", "lavfi", "-i", "anullsrc", "-f", "null", "-"]


def hold_composite(marker: Path) -> None:
    """After the composite's encode (FFmpeg run in a work folder), an endless FFmpeg; ``marker`` says so."""
    original = FFmpegResource.run

    def run(self, args: list[str], cwd: Path | None = None, log_level: str = "error") -> str:
        if cwd is None:  # the loudness passes and the thumbnail
            return original(self, args, cwd, log_level)
        original(self, args, cwd, log_level)
        marker.write_text("encoding")
        original(self, NEVER_ENDING, cwd, log_level)
        raise AssertionError("unreachable")

    FFmpegResource.run = run


def hold_first_composite_if_asked() -> None:
    """In a code location loaded by a daemon test: hold the composite while ``HOLD_COMPOSITE_ENV``
    names a marker file that does not exist yet (the first run); later processes render normally."""
    marker = os.environ.get(HOLD_COMPOSITE_ENV)
    if marker and not Path(marker).exists():
        hold_composite(Path(marker))


def wait_for_step_start(instance, run_key: str, step: str, child: subprocess.Popen, log: Path) -> str:
    """The run id of the run with ``run_key``, once its ``step`` has started in ``child``."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        assert child.poll() is None, log.read_text()[-3000:]
        runs = instance.get_run_records(filters=dg.RunsFilter(tags={RUN_KEY_TAG: run_key}))
        if runs:
            run_id = runs[0].dagster_run.run_id
            starts = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_START).records
            if any(r.event_log_entry.step_key == step for r in starts):
                return run_id
        time.sleep(0.1)
    raise AssertionError(f"step {step} did not start in time")


def wait_for_file(path: Path, child: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 600
    while not path.exists():
        assert child.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"{path.name} did not appear in time"
        time.sleep(0.05)


def children(pid: int, name: str) -> list[int]:
    """The processes whose name starts with ``name`` and whose parent is ``pid`` (Linux)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            comm, rest = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if comm.split("(", 1)[1].startswith(name) and int(rest.split()[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def main(partition_key: str, run_key: str, version: str) -> int:
    if os.environ.get(HOLD_COMPOSITE_ENV):
        hold_composite(Path(os.environ[HOLD_COMPOSITE_ENV]))
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            dg.reconstructable(render_record_job),
            instance=instance,
            tags={PARTITION_TAG: partition_key, RUN_KEY_TAG: run_key, VERSION_TAG: version},
        )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
