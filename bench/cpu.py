"""CPU time of the processes a benchmark starts and of the local PostgreSQL, from /proc (Linux).

Wall time says how long a burst took; CPU time says who paid for it: the
scheduler's own process (claiming, handing out, recording), its workers (the
bodies and the runner around them) and the database server.
"""

from __future__ import annotations

import os
import resource
import threading


def _stat(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return []


def own_seconds(pid: int) -> float | None:
    """CPU seconds process ``pid`` spent itself (utime + stime); None once it is gone."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else None


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(CPU seconds of process ``pid``, of its living descendants), from /proc (Linux)."""

    def own(p: int) -> float:
        return own_seconds(p) or 0.0

    def children(p: int) -> list[int]:
        found: list[int] = []
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    found += [int(c) for c in f.read().split()]
        except OSError:
            pass
        return found

    descendants, todo = [], children(pid)
    while todo:
        child = todo.pop()
        descendants.append(child)
        todo += children(child)
    return own(pid), sum(own(c) for c in descendants)


def database_cpu_seconds() -> float:
    """CPU seconds the local PostgreSQL server has used: its postmaster, the backends it
    reaped and those alive. 0 when the server is not a local process we can read."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    comm = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm[pid] = f.read().strip()
        except OSError:
            pass
    total = 0.0
    for pid, name in comm.items():
        if not name.startswith("postgres"):
            continue
        fields = _stat(pid)
        if not fields:
            continue
        parent = int(fields[1])
        used = int(fields[11]) + int(fields[12])
        if not comm.get(parent, "").startswith("postgres"):  # the postmaster
            used += int(fields[13]) + int(fields[14])  # and every backend it reaped
        total += used / tick
    return total


def children_seconds() -> float:
    """CPU seconds of every child this process has waited for, and of theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class OwnCPU:
    """Samples the CPU a process spent itself (not its children) until it exits.

    /proc forgets a process once it is reaped, so its last reading before exit is
    kept: it misses at most one sampling interval of the process's own CPU.
    """

    def __init__(self, pid: int, every: float = 0.005) -> None:
        self.pid, self.every, self.seconds = pid, every, 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.is_set():
            seconds = own_seconds(self.pid)
            if seconds is None:
                return
            self.seconds = seconds
            self._done.wait(self.every)

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return self.seconds
