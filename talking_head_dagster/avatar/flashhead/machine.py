"""What the flashhead backend asks of the machine itself: its CUDA device, and the packages upstream imports.

One object answers both, so tests can stand in for the machine (a GPU, upstream's packages)
while the checkout and weight checks run exactly as in production.
"""

import importlib.util
from collections.abc import Iterable
from typing import Protocol

from talking_head_dagster.avatar.flashhead.gpu import GpuInfo, probe_gpu


class Machine(Protocol):
    def gpu(self) -> GpuInfo:
        """The CUDA device to render on; raises GpuUnavailable with the reason when there is none."""
        ...

    def missing_modules(self, modules: Iterable[str]) -> list[str]:
        """Those of ``modules`` that cannot be imported here."""
        ...


class ThisMachine:
    """The machine this process runs on: PyTorch's CUDA query, and the installed packages."""

    def gpu(self) -> GpuInfo:
        return probe_gpu()

    def missing_modules(self, modules: Iterable[str]) -> list[str]:
        return [module for module in modules if not installed(module)]


def installed(module: str) -> bool:
    """Whether ``module`` can be found for import (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
