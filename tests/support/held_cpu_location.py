"""The production CPU location, with the first composite held (``job_process.hold_composite``) while
``TALKING_HEAD_TEST_HOLD_COMPOSITE`` names a marker file that does not exist yet: later run
processes (the marker written) render normally."""

import os
from pathlib import Path

from talking_head_dagster.locations.cpu import build_cpu_definitions
from tests.support.job_process import HOLD_COMPOSITE_ENV, hold_composite

_marker = os.environ.get(HOLD_COMPOSITE_ENV)
if _marker and not Path(_marker).exists():
    hold_composite(Path(_marker))

defs = build_cpu_definitions()
