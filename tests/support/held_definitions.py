"""The deployment's definitions, with the first composite held (``job_process.hold_composite``) when
``TALKING_HEAD_TEST_HOLD_COMPOSITE`` names a marker file that does not exist yet: a code location
for daemon tests, whose later runs (the marker written) render normally."""

from talking_head_dagster.definitions import build_definitions
from tests.support.job_process import hold_first_composite_if_asked

hold_first_composite_if_asked()

defs = build_definitions()
