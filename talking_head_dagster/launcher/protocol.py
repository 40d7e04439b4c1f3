"""The line protocol between WarmRunLauncher and its warm process (``zygote.py``)."""

ZYGOTE_MODULE = "talking_head_dagster.launcher.zygote"
READY = "ready"  # the warm process's first line: its imports are done
ERROR = "error"  # an answer that is not a pid: ``error <reason>``
