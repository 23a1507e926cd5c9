"""How many runs a pass claims at a time: what its own workers will start soon.

A pass that claims more than its workers can start keeps those runs from the
other schedulers: with 500 per batch and 2 workers, the first two processes
took 1,000 due tasks between them and the other two found nothing, so four
schedulers ran no faster than two. The pacer holds a pass to about HORIZON
seconds of work ahead, measured from the runs it has finished, so several
schedulers share a burst. Fast bodies still get big batches (up to
``BATCH_SIZE``), slow ones small batches.

A claim grows at most fourfold over the last one, and only when the last came
back full (more were due than it asked for): a burst reaches full batches in
three claims (8, 32, 128, 500) rather than six, each claim a transaction of
its own; a trickle of due tasks stays at the small first size.
"""

from __future__ import annotations

import math
import time


class ClaimPacer:
    HORIZON = 0.5  # seconds of work a pass holds ahead of its workers
    PER_WORKER = 4  # runs per worker claimed before the pass knows its rate
    GROWTH = 4  # how much larger than the last (full) claim the next may be

    def __init__(self, workers: int, batch_size: int, clock=time.monotonic) -> None:  # noqa: ANN001
        self.workers = max(1, workers)
        self.batch_size = max(1, batch_size)
        self.floor = min(self.batch_size, self.PER_WORKER * self.workers)
        self.clock = clock
        self.claimed = 0
        self.finished = 0
        self.last_size = 0
        self.last_full = False
        self._since: float | None = None

    def rate(self) -> float:
        """Runs finished per second since the first claim (0 until one finished)."""
        if self._since is None or not self.finished:
            return 0.0
        return self.finished / max(self.clock() - self._since, 0.05)

    def ahead(self) -> float:
        """How many claimed, unfinished runs the pass should hold."""
        return max(self.floor, self.rate() * self.HORIZON)

    def outstanding(self) -> int:
        return self.claimed - self.finished

    def wants_more(self) -> bool:
        return self.outstanding() < self.ahead()

    def size(self) -> int:
        """The next claim's size: up to ``ahead``, at most GROWTH times the last, within BATCH_SIZE."""
        want = math.ceil(self.ahead())
        if self.last_size:
            want = min(want, self.growth_cap())
        return max(1, min(self.batch_size, max(self.floor, want)))

    def growth_cap(self) -> int:
        """The largest next claim: GROWTH times a full last claim, twice a partial one."""
        return (self.GROWTH if self.last_full else 2) * self.last_size

    def on_claimed(self, count: int, size: int) -> None:
        if self._since is None:
            self._since = self.clock()
        self.claimed += count
        self.last_size = size
        self.last_full = count >= size

    def on_finished(self, count: int = 1) -> None:
        self.finished += count
