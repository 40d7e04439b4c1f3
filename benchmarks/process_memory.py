"""Peak memory of a process tree's members, sampled from /proc while a benchmark runs (Linux only).

Each process's ``VmHWM`` (its resident set's high-water mark, which the kernel keeps) is read
every ``interval`` seconds for every descendant of ``root``; the last reading before a process
exits is within one interval of its end, and the mark only grows, so it is its peak up to then.
Forked processes count the pages they share with their parent, as ``ps`` does.
"""

import threading
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Sample:
    ppid: int
    command: str
    peak_kib: int = 0


@dataclass
class TreeMemory:
    root: int
    interval: float = 0.25
    seen: dict[int, Sample] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> "TreeMemory":
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak_mib(self, pid: int) -> float | None:
        sample = self.seen.get(pid)
        return round(sample.peak_kib / 1024, 1) if sample else None

    def children_peak_mib(self, pid: int) -> float | None:
        """The largest peak among ``pid``'s child processes (a stage's FFmpeg, for a run worker)."""
        peaks = [s.peak_kib for s in self.seen.values() if s.ppid == pid]
        return round(max(peaks) / 1024, 1) if peaks else None

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            for pid, (ppid, hwm, command) in _processes().items():
                if pid in self.seen or self._descends(ppid):
                    sample = self.seen.setdefault(pid, Sample(ppid, command))
                    sample.peak_kib = max(sample.peak_kib, hwm)

    def _descends(self, ppid: int) -> bool:
        return ppid == self.root or ppid in self.seen


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, VmHWM in KiB, command) for every readable process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:200]
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if "VmHWM" not in fields:  # kernel threads
            continue
        found[int(entry.name)] = (int(fields["PPid"]), int(fields["VmHWM"].split()[0]), command.strip())
    return found
