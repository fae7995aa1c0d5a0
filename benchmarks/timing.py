"""Timing that can be trusted on a shared, loaded machine (the harness of
run_all.py and bench_iov_iter.py).

- **CPU time of this process** (time.process_time): what other sessions
  do costs us wall time, not CPU time.
- **No garbage collection inside a timed region.**  The collector runs
  when allocations pass a threshold, so one side's garbage would be
  collected on the other side's clock; it is run before each region
  instead, untimed.
- **The reference beside the subject.**  Every round times both, in
  alternating order, and keeps their ratio; a figure is the median of the
  per-round ratios.  Load that drifts during a run moves both sides of a
  round alike, and the median drops the rounds a burst hit.
- **Regions long enough to time.**  A subject that takes less than
  MIN_REGION seconds is called several times per timed region (the count
  fixed after the warm-up call, the same in every round), so that a
  region is not mostly the cold caches the collector left.
- **Costs per segment as slopes.**  The same bytes in two segment counts,
  both timed in each round; the per-round slope (extra time per extra
  segment) has its median taken.  A ratio of totals ("x4 segments cost
  3.9x") mixes the fixed and per-byte costs into the figure.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

Fn = Callable[[], object]


#: The shortest timed region wanted, in CPU seconds.
MIN_REGION = 0.01
#: The spread of each figure measured since take_spread() last ran:
#: (largest - smallest per-round value) / median.
_spreads: list[float] = []


def _median(values: list[float]) -> float:
    m = statistics.median(values)
    _spreads.append((max(values) - min(values)) / abs(m) if m else float("inf"))
    return m


def take_spread() -> float | None:
    """The widest relative spread of the figures measured since the last
    call (None if none was): how far apart the rounds were."""
    worst = max(_spreads, default=None)
    _spreads.clear()
    return worst


def cpu(fn: Fn, calls: int = 1) -> float:
    """CPU seconds of one call of ``fn`` (the mean of ``calls`` calls in one
    region), with the collector off."""
    gc.collect()
    gc.disable()
    try:
        t = time.process_time()
        for _ in range(calls):
            fn()
        return (time.process_time() - t) / calls
    finally:
        gc.enable()


def _warm(fn: Fn) -> int:
    """Call ``fn`` once untimed, then once timed: how many calls make a
    region of MIN_REGION."""
    fn()
    t = cpu(fn)
    return max(1, min(1000, int(MIN_REGION / max(t, 1e-7)) + 1)) if t < MIN_REGION else 1


def ratios(ref: Fn, sub: Fn, rounds: int) -> list[float]:
    """cpu(ref) / cpu(sub) of each round, the two timed side by side
    (alternately first), after untimed warm-up calls of each."""
    nr, ns = _warm(ref), _warm(sub)
    out = []
    for k in range(rounds):
        if k % 2:
            s = cpu(sub, ns)
            r = cpu(ref, nr)
        else:
            r = cpu(ref, nr)
            s = cpu(sub, ns)
        out.append(r / max(s, 1e-9))
    return out


def median_ratio(ref: Fn, sub: Fn, rounds: int) -> float:
    """The median over rounds of cpu(ref) / cpu(sub): above 1, the subject
    is the faster."""
    return _median(ratios(ref, sub, rounds))


def median_time(fn: Fn, rounds: int) -> float:
    """The median CPU seconds of a call (after warm-up calls)."""
    n = _warm(fn)
    return _median([cpu(fn, n) for _ in range(rounds)])


def median_slope(fns: dict[int, Fn], rounds: int) -> float:
    """CPU seconds per unit of the key: each round times every
    ``fns[n]`` (in alternating order), fits a least-squares line through
    (n, time) and keeps its slope; the median of the slopes."""
    ns = sorted(fns)
    if len(ns) < 2:
        raise ValueError("a slope needs at least two counts")
    calls = {n: _warm(fns[n]) for n in ns}
    mean_n = sum(ns) / len(ns)
    var = sum((n - mean_n) ** 2 for n in ns)
    slopes = []
    for k in range(rounds):
        order = ns if k % 2 == 0 else ns[::-1]
        t = {n: cpu(fns[n], calls[n]) for n in order}
        mean_t = sum(t.values()) / len(ns)
        slopes.append(sum((n - mean_n) * (t[n] - mean_t) for n in ns) / var)
    return _median(slopes)


def driver_bench_args(doc: str, quick_help: str) -> argparse.Namespace:
    """The driver benchmarks' command line (``--quick``, ``--rounds``,
    ``--alg``), with ``rounds`` resolved (3 quick, else 5), and their
    opening line printed."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--rounds", type=int, default=0)
    ap.add_argument("--alg", action="append", default=[], help="a cra_name (repeatable)")
    args = ap.parse_args()
    args.rounds = args.rounds or (3 if args.quick else 5)
    print(f"CPU-time clock, GC off while timing, median of {args.rounds} rounds, each subject "
          "timed beside its reference\n")
    return args
