"""One run of ``render_record`` in a process of its own, as Dagster's run worker runs it.

The fault tests kill this process in the middle of a stage, then re-execute the run from failure
in theirs: ``python -m tests.support.job_process <partition key> <run key> <version>``. The
deployment comes from the ``TALKING_HEAD_*`` environment, the instance from ``DAGSTER_HOME``.

With ``TALKING_HEAD_TEST_HOLD_COMPOSITE=<file>`` the composite's encode writes that file as it
starts FFmpeg, and the stage never returns: a kill then always lands in the middle of the composite,
however fast the machine.
"""

import os
import sys
import threading
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


def hold_composite(marker: Path) -> None:
    """The composite's encode (FFmpeg run in a work folder) announces itself in ``marker``, then never returns."""
    original = FFmpegResource.run

    def run(self, args: list[str], cwd: Path | None = None, log_level: str = "error") -> str:
        if cwd is None:  # the loudness passes and the thumbnail
            return original(self, args, cwd, log_level)
        marker.write_text("encoding")
        original(self, args, cwd, log_level)
        threading.Event().wait()
        raise AssertionError("unreachable")

    FFmpegResource.run = run


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
