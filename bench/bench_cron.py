"""Cron next runs: scheduler_app next to cronsim and croniter, on the same inputs, in one run.

    .venv/bin/python -m bench.bench_cron                # 1,000 expressions, 10 runs each, 5 rounds
    .venv/bin/python -m bench.bench_cron --expressions 300 --rounds 3 --seed 7

Each round computes the next ``--runs`` runs of every expression, after a
start instant drawn between 2026 and 2028 (so some starts sit near a DST
change), in a zone drawn from eight (with and without DST, 30- and 45-minute
offsets). The three engines see the same expressions, zones and starts:

* product: ``scheduler_app.schedules.cron_runs_after`` (validated and DST rule
  applied, as the preview and the engine call it). "cold": its cache of parsed
  expressions is emptied before each round, so every expression is parsed once
  per round, like a preview typed for the first time; "warm": parsed already,
  like the engine's passes over the same tasks.
* cronsim: ``CronSim(expr, start_in_zone)``, ``next()`` ``--runs`` times.
* croniter: ``croniter(expr, start_in_zone)``, ``get_next()`` ``--runs`` times.

Each round times every engine (in a rotating order) in CPU time; the best
round of each is reported, its ratio to cronsim's best, and the range of the
ratios measured round by round.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import signal
import sys
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "Europe/Dublin",
]
#: (low, high) of each cron field; the weekday field is drawn from 0-6 (7 is also Sunday).
FIELDS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]

Case = tuple[str, ZoneInfo, dt.datetime]
RUNS = 10  # next runs per expression while choosing the cases


def _term(rng: random.Random, low: int, high: int) -> str:
    kind = rng.random()
    if kind < 0.45:
        return str(rng.randint(low, high))
    start = rng.randint(low, high - 1)
    end = rng.randint(start + 1, high)
    if kind < 0.75:
        return f"{start}-{end}"
    return f"{start}-{end}/{rng.randint(2, max(2, (end - start) // 2 + 1))}"


def _field(rng: random.Random, low: int, high: int) -> str:
    kind = rng.random()
    if kind < 0.35:
        return "*"
    if kind < 0.5:
        return f"*/{rng.randint(2, max(2, (high - low) // 3))}"
    return ",".join(_term(rng, low, high) for _ in range(rng.choice((1, 1, 2, 3))))


def expression(rng: random.Random) -> str:
    """A random 5-field expression every engine reads the same way (no a-a, no reversed range)."""
    fields = [_field(rng, low, high) for low, high in FIELDS]
    if rng.random() < 0.6:
        fields[2] = "*"  # most real crontabs leave one day field open
    elif rng.random() < 0.7:
        fields[4] = "*"
    return " ".join(fields)


class _TooSlow(Exception):
    pass


def _raise_too_slow(*_args: object) -> None:
    raise _TooSlow


def cases(count: int, seed: int) -> tuple[list[Case], int]:
    """``count`` expressions, each with a zone and a start, that all three engines accept.

    Also returns how many drawn cases were left out because an engine took more
    than a CPU second on them: cronsim loops for ever on a few real-time jobs
    started near a change of Pacific/Chatham (e.g. ``52 */3 * 4-6 */2`` from
    2028-03-19 13:18 UTC).
    """
    from croniter import croniter
    from cronsim import CronSim

    from scheduler_app import schedules

    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    found: list[Case] = []
    hanging = 0
    previous = signal.signal(signal.SIGPROF, _raise_too_slow)
    try:
        while len(found) < count:
            expr = expression(rng)
            zone = ZoneInfo(rng.choice(ZONES))
            after = start + dt.timedelta(minutes=rng.randint(0, 3 * 366 * 24 * 60))
            batch = [(expr, zone, after)]
            try:
                schedules.normalize_cron(expr)
                CronSim(expr, after)
                croniter(expr, after)
            except Exception:  # noqa: BLE001 - keep only what every engine accepts
                continue
            signal.setitimer(signal.ITIMER_PROF, 1.0)  # a CPU second
            try:
                for work in (run_product, run_cronsim, run_croniter):
                    work(batch, RUNS)
            except _TooSlow:
                hanging += 1
                continue
            except Exception:  # noqa: BLE001 - no next run within an engine's horizon
                continue
            finally:
                signal.setitimer(signal.ITIMER_PROF, 0)
            found.append((expr, zone, after))
    finally:
        signal.signal(signal.SIGPROF, previous)
    return found, hanging


def run_product(batch: list[Case], runs: int) -> None:
    from scheduler_app.schedules import cron_runs_after

    for expr, zone, after in batch:
        cron_runs_after(expr, zone, after, runs)


def run_cronsim(batch: list[Case], runs: int) -> None:
    from cronsim import CronSim

    for expr, zone, after in batch:
        itr = CronSim(expr, after.astimezone(zone))
        for _ in range(runs):
            next(itr)


def run_croniter(batch: list[Case], runs: int) -> None:
    from croniter import croniter

    for expr, zone, after in batch:
        itr = croniter(expr, after.astimezone(zone))
        for _ in range(runs):
            itr.get_next(dt.datetime)


def clear_parse_cache() -> None:
    from scheduler_app.schedules import cron

    for name in ("compile_cron", "parse_cron"):
        cached = getattr(cron, name, None)
        if cached is not None and hasattr(cached, "cache_clear"):
            cached.cache_clear()


def cpu_seconds(work: Callable[[], None]) -> float:
    # CPU time of this process: on a shared machine, wall time mostly measures the neighbours.
    began = time.process_time()
    work()
    return time.process_time() - began


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expressions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=10, help="next runs per expression")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each timing every engine")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)

    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_I18N=False, USE_TZ=True)

    batch, hanging = cases(args.expressions, args.seed)

    def cold() -> None:
        clear_parse_cache()
        run_product(batch, args.runs)

    engines: dict[str, Callable[[], None]] = {
        "product (cold)": cold,
        "product (warm)": lambda: run_product(batch, args.runs),
        "cronsim": lambda: run_cronsim(batch, args.runs),
        "croniter": lambda: run_croniter(batch, args.runs),
    }
    run_product(batch, args.runs)  # imports and first calls out of the way
    times: dict[str, list[float]] = {name: [] for name in engines}
    for round_number in range(args.rounds):
        # Every engine in every round, in a rotating order, so a busy moment hits all alike.
        names = list(engines)
        names = names[round_number % len(names) :] + names[: round_number % len(names)]
        for name in names:
            times[name].append(cpu_seconds(engines[name]))
    # The same digest before and after a change: the engines were timed on the same cases.
    digest = hashlib.sha256("\n".join(f"{e}|{z.key}|{a}" for e, z, a in batch).encode())
    print(
        f"{len(batch)} expressions x {args.runs} next runs, {args.rounds} rounds, CPU time "
        f"(seed {args.seed}, cases {digest.hexdigest()[:12]}; {hanging} drawn cases left out: "
        "an engine took over a CPU second)"
    )
    print(f"  {'':<15} {'best':>9}   {'best/cronsim':>12}   per-round ratio to cronsim")
    base = times["cronsim"]
    for name, seconds in times.items():
        ratios = [mine / theirs for mine, theirs in zip(seconds, base, strict=True)]
        print(
            f"  {name:<15} {min(seconds) * 1000:6.0f} ms   {min(seconds) / min(base):11.2f}x"
            f"   {min(ratios):.2f}-{max(ratios):.2f}x"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
