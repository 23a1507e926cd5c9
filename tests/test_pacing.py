"""How much a pass claims at a time (scheduler_app.engine.pacing), with an injected clock."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler_app.engine.pacing import ClaimPacer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_slow_bodies_are_claimed_a_few_at_a_time():
    clock = Clock()
    pacer = ClaimPacer(workers=2, batch_size=500, clock=clock)
    sizes = []
    for _ in range(40):  # 2 workers, 50 ms bodies: 40 runs a second
        size = pacer.size()
        sizes.append(size)
        pacer.on_claimed(size, size)
        while pacer.outstanding() >= pacer.ahead():
            clock.now += 0.05
            pacer.on_finished(2)
    # About half a second of work ahead (20 runs, the rate rounded up), not the batch size.
    assert max(sizes) <= 21
    assert sizes[0] == 8  # 4 per worker before the rate is known


def test_fast_bodies_grow_to_the_batch_size_fourfold_while_claims_come_back_full():
    clock = Clock()
    pacer = ClaimPacer(workers=2, batch_size=500, clock=clock)
    sizes = []
    for _ in range(12):  # 2,000 runs a second
        size = pacer.size()
        sizes.append(size)
        pacer.on_claimed(size, size)
        clock.now += size / 2000
        pacer.on_finished(size)
    assert sizes[:4] == [8, 32, 128, 500]
    assert set(sizes[3:]) == {500}


def test_a_claim_that_came_back_short_grows_at_most_twofold():
    clock = Clock()
    pacer = ClaimPacer(workers=2, batch_size=500, clock=clock)
    pacer.on_claimed(5, 8)  # fewer were due than asked for
    clock.now += 0.01
    pacer.on_finished(5)  # 500 runs a second: half a second ahead is 250
    assert pacer.size() == 16


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    workers=st.integers(0, 16),
    batch_size=st.integers(1, 1000),
    steps=st.lists(
        st.tuples(st.integers(0, 600), st.floats(0, 5), st.integers(0, 600)), max_size=30
    ),
)
def test_a_claim_is_within_the_batch_size_and_grows_only_after_a_full_one(
    workers, batch_size, steps
):
    clock = Clock()
    pacer = ClaimPacer(workers=workers, batch_size=batch_size, clock=clock)
    for won, elapsed, finished in steps:
        size = pacer.size()
        assert 1 <= size <= batch_size
        if pacer.last_size:
            growth = ClaimPacer.GROWTH if pacer.last_full else 2
            assert size <= max(pacer.floor, growth * pacer.last_size)
        won = min(won, size)
        pacer.on_claimed(won, size)
        clock.now += elapsed
        pacer.on_finished(min(finished, pacer.outstanding()))
        assert pacer.outstanding() >= 0
        assert pacer.wants_more() == (pacer.outstanding() < pacer.ahead())
