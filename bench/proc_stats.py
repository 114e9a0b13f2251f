"""What a server process costs, read from Linux's /proc: CPU time, peak memory, threads."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def status_field(pid: int, name: str) -> int:
    """A numeric field of /proc/<pid>/status (kB for memory fields)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key == name:
            return int(value.split()[0])
    raise KeyError(name)


@dataclass
class ProcessWatch:
    """CPU used since the watch started, with peaks sampled while it runs."""

    pid: int
    cpu_at_start: float = 0.0
    peak_threads: int = 0

    def start(self) -> ProcessWatch:
        self.cpu_at_start = cpu_seconds(self.pid)
        self.sample()
        return self

    def sample(self) -> None:
        """Take one reading of the thread count; cheap enough to call every few hundred ms."""
        self.peak_threads = max(self.peak_threads, status_field(self.pid, "Threads"))

    def cpu_used(self) -> float:
        return round(self.cpu_used_exact(), 2)

    def cpu_used_exact(self) -> float:
        """CPU seconds since :meth:`start`, unrounded, for dividing by a request or chunk count."""
        return cpu_seconds(self.pid) - self.cpu_at_start

    def peak_rss_mib(self) -> float:
        """The process's high-water mark of resident memory (VmHWM)."""
        return round(status_field(self.pid, "VmHWM") / 1024, 1)
