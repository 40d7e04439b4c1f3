"""The embedded default's run launcher: runs start from a warm process instead of a fresh interpreter."""

from talking_head_dagster.launcher.warm import WarmRunLauncher

__all__ = ["WarmRunLauncher"]
