"""The production CPU location, with the first composite held (``job_process.hold_composite``) while
``TALKING_HEAD_TEST_HOLD_COMPOSITE`` names a marker file that does not exist yet: later run
processes (the marker written) render normally."""

from talking_head_dagster.locations.cpu import build_cpu_definitions
from tests.support.job_process import hold_first_composite_if_asked

hold_first_composite_if_asked()

defs = build_cpu_definitions()
