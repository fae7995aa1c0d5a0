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
- **Costs per segment as slopes.**  The same bytes in two segment counts,
  both timed in each round; the per-round slope (extra time per extra
  segment) has its median taken.  A ratio of totals ("x4 segments cost
  3.9x") mixes the fixed and per-byte costs into the figure.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable

Fn = Callable[[], object]


def cpu(fn: Fn) -> float:
    """CPU seconds of one call of ``fn``, with the collector off."""
    gc.collect()
    gc.disable()
    try:
        t = time.process_time()
        fn()
        return time.process_time() - t
    finally:
        gc.enable()


def ratios(ref: Fn, sub: Fn, rounds: int) -> list[float]:
    """cpu(ref) / cpu(sub) of each round, the two timed side by side
    (alternately first), after one untimed warm-up call of each."""
    ref()
    sub()
    out = []
    for k in range(rounds):
        if k % 2:
            s = cpu(sub)
            r = cpu(ref)
        else:
            r = cpu(ref)
            s = cpu(sub)
        out.append(r / max(s, 1e-9))
    return out


def median_ratio(ref: Fn, sub: Fn, rounds: int) -> float:
    """The median over rounds of cpu(ref) / cpu(sub): above 1, the subject
    is the faster."""
    return statistics.median(ratios(ref, sub, rounds))


def median_time(fn: Fn, rounds: int) -> float:
    """The median CPU seconds of a call (after an untimed warm-up)."""
    fn()
    return statistics.median(cpu(fn) for _ in range(rounds))


def median_slope(fns: dict[int, Fn], rounds: int) -> float:
    """CPU seconds per unit of the key: each round times every
    ``fns[n]`` (in alternating order), fits a least-squares line through
    (n, time) and keeps its slope; the median of the slopes."""
    ns = sorted(fns)
    if len(ns) < 2:
        raise ValueError("a slope needs at least two counts")
    for n in ns:
        fns[n]()
    mean_n = sum(ns) / len(ns)
    var = sum((n - mean_n) ** 2 for n in ns)
    slopes = []
    for k in range(rounds):
        order = ns if k % 2 == 0 else ns[::-1]
        t = {n: cpu(fns[n]) for n in order}
        mean_t = sum(t.values()) / len(ns)
        slopes.append(sum((n - mean_n) * (t[n] - mean_t) for n in ns) / var)
    return statistics.median(slopes)
