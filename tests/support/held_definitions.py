"""The deployment's definitions, with the first composite held (``job_process.hold_composite``) when
``TALKING_HEAD_TEST_HOLD_COMPOSITE`` names a marker file that does not exist yet: a code location
for daemon tests, whose later runs (the marker written) render normally."""

import os
from pathlib import Path

from talking_head_dagster.definitions import build_definitions
from tests.support.job_process import HOLD_COMPOSITE_ENV, hold_composite

_marker = os.environ.get(HOLD_COMPOSITE_ENV)
if _marker and not Path(_marker).exists():
    hold_composite(Path(_marker))

defs = build_definitions()
