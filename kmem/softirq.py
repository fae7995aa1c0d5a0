"""Interrupts, tasklets, timers and waiting (kernel/softirq.c,
kernel/time/timer.c, kernel/sched/completion.c), for a single-threaded
model of asynchronous hardware.

Nothing runs behind the caller's back: a device makes progress, raises
its interrupt, and the tasklets it schedules run, only when the CPU
waits (:func:`wait_event`, used by ``crypto_wait_req``) or when a test
or tool calls :func:`cpu_idle_step`/:func:`run_until_idle` itself.  One
idle step does the first of these that has work: run the pending
tasklets (in softirq context, where :func:`kmem.might_sleep` records a
sleep), let each registered device do one unit of work, or let virtual
time jump to the earliest armed timer and run it (a driver's watchdog).
A wait with none of these left would never end: KernelBug (hung task).
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable

from kmem.errno import KernelBug
from kmem.preempt import _state

_tasklets: deque[Tasklet] = deque()
_devices: list[Callable[[], bool]] = []
_timers: list[TimerList] = []
jiffies = [0]
HZ = 250


class Tasklet:
    """``struct tasklet_struct``: ``func(data)`` run once per schedule."""

    __slots__ = ("data", "func", "scheduled")

    def __init__(self, func: Callable[[object], None], data: object = None) -> None:
        self.func = func
        self.data = data
        self.scheduled = False


def tasklet_init(t: Tasklet, func: Callable[[object], None], data: object) -> None:
    t.func, t.data, t.scheduled = func, data, False


def tasklet_schedule(t: Tasklet) -> None:
    """Schedule ``t`` unless it is already pending (as the kernel does)."""
    if not t.scheduled:
        t.scheduled = True
        _tasklets.append(t)


def tasklet_kill(t: Tasklet) -> None:
    if t.scheduled:
        t.scheduled = False
        with contextlib.suppress(ValueError):
            _tasklets.remove(t)


def in_softirq() -> bool:
    return _state.get("softirq", 0) > 0


def do_softirq() -> bool:
    """Run the pending tasklets in softirq context; True if any ran."""
    ran = False
    while _tasklets:
        t = _tasklets.popleft()
        t.scheduled = False
        ran = True
        _state["softirq"] = _state.get("softirq", 0) + 1
        try:
            t.func(t.data)
        finally:
            _state["softirq"] -= 1
    return ran


class TimerList:
    """``struct timer_list``: ``function(timer)`` at ``expires`` jiffies."""

    __slots__ = ("expires", "function")

    def __init__(self, function: Callable[[TimerList], None]) -> None:
        self.function = function
        self.expires = 0


def timer_setup(timer: TimerList, function: Callable[[TimerList], None], flags: int = 0) -> None:
    timer.function = function


def mod_timer(timer: TimerList, expires: int) -> int:
    """Arm (or re-arm) ``timer``; 1 if it was pending."""
    pending = timer in _timers
    timer.expires = expires
    if not pending:
        _timers.append(timer)
    return int(pending)


def timer_delete(timer: TimerList) -> int:
    """``timer_delete()`` (formerly del_timer): 1 if it was pending."""
    if timer in _timers:
        _timers.remove(timer)
        return 1
    return 0


del_timer = timer_delete


def register_device(step: Callable[[], bool]) -> None:
    """Model helper: ``step()`` lets a device do one unit of work while
    the CPU waits; it returns False when the device has nothing to do."""
    if step not in _devices:
        _devices.append(step)


def unregister_device(step: Callable[[], bool]) -> None:
    if step in _devices:
        _devices.remove(step)


def cpu_idle_step() -> bool:
    """One step of everything that is not the caller; False if nothing
    could make progress."""
    if do_softirq():
        return True
    for step in list(_devices):
        if step():
            do_softirq()
            return True
    if _timers:
        timer = min(_timers, key=lambda t: t.expires)
        _timers.remove(timer)
        jiffies[0] = max(jiffies[0], timer.expires)
        _state["softirq"] = _state.get("softirq", 0) + 1
        try:
            timer.function(timer)
        finally:
            _state["softirq"] -= 1
        do_softirq()
        return True
    return False


def run_until_idle(limit: int = 1_000_000) -> int:
    """Let devices, tasklets and timers run until none has work left;
    returns the number of steps."""
    n = 0
    while n < limit and cpu_idle_step():
        n += 1
    return n


def wait_event(cond: Callable[[], bool], what: str = "wait_event") -> None:
    """Sleep until ``cond()`` holds: the rest of the system runs meanwhile.
    Raises KernelBug when nothing is left that could make it true."""
    while not cond():
        if not cpu_idle_step():
            raise KernelBug(f"{what}: waiting for an event that can never happen (hung task)")
