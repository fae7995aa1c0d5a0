"""Atomic context: RCU read side, pagefault_disable, might_sleep()
(include/linux/preempt.h, rcupdate.h, uaccess.h).

The model is single-threaded; what it tracks is whether a caller that may
sleep (a GFP_KERNEL allocation, pinning user pages, a user-space fault) is
reached from inside an RCU read-side section or an atomic kmap, which the
kernel forbids.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kmem.sanitizer import SLEEP_IN_ATOMIC, WARN, report

_state = {"rcu": 0, "pagefault_disabled": 0, "preempt": 0, "softirq": 0}


def rcu_read_lock() -> None:
    _state["rcu"] += 1


def rcu_read_unlock() -> None:
    if WARN(_state["rcu"] == 0, "rcu_read_unlock() without rcu_read_lock()"):
        return
    _state["rcu"] -= 1


@contextmanager
def rcu_read_section() -> Iterator[None]:
    """``rcu_read_lock(); ...; rcu_read_unlock();`` as a with-block."""
    rcu_read_lock()
    try:
        yield
    finally:
        rcu_read_unlock()


def rcu_read_lock_held() -> bool:
    return _state["rcu"] > 0


def pagefault_disable() -> None:
    _state["pagefault_disabled"] += 1


def pagefault_enable() -> None:
    if WARN(_state["pagefault_disabled"] == 0, "pagefault_enable() without disable"):
        return
    _state["pagefault_disabled"] -= 1


def pagefault_disabled() -> bool:
    return _state["pagefault_disabled"] > 0


def preempt_disable() -> None:
    _state["preempt"] += 1


def preempt_enable() -> None:
    if WARN(_state["preempt"] == 0, "preempt_enable() without disable"):
        return
    _state["preempt"] -= 1


def in_atomic() -> bool:
    return any(_state.values())


def might_sleep(what: str = "might_sleep()") -> None:
    """Record a sleeping call made where sleeping is not allowed."""
    if in_atomic():
        where = ", ".join(k for k, v in _state.items() if v)
        report(SLEEP_IN_ATOMIC, f"{what} called in atomic context ({where})")


def reset_atomic_state() -> list[str]:
    """Leave every atomic section (for test teardown); returns what was held."""
    held = [k for k, v in _state.items() if v]
    for k in _state:
        _state[k] = 0
    return held
