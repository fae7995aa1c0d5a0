"""copy_to_user and friends (include/linux/uaccess.h, lib/usercopy.c).

They reach user memory through ``current->mm`` and return the number of
bytes *not* copied: a fault part-way gives a short copy, as in the kernel.
With page faults disabled (``pagefault_disable()``, the nofault copies), a
page that is not yet present is a fault too.
"""

from __future__ import annotations

from kmem.access import Buffer, buffer_views, copy_views, fill_views
from kmem.mmap import access_ok, current_mm


def _check(n: object) -> int:
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return n


def copy_to_user(to: int, from_: Buffer, n: int) -> int:
    """Copy ``n`` bytes from a kernel buffer to user address ``to``;
    returns the bytes left uncopied."""
    n = _check(n)
    if n == 0:
        return 0
    if not access_ok(to, n):
        return n
    views, ok = current_mm().user_views(to, n, write=True)
    if ok:
        copy_views(views, buffer_views(from_, ok))
    return n - ok


def copy_from_user(to: Buffer, from_: int, n: int) -> int:
    """Copy ``n`` bytes from user address ``from_`` into a kernel buffer;
    returns the bytes left uncopied (the kernel zeroes them in ``to``)."""
    n = _check(n)
    if n == 0:
        return 0
    views, ok = current_mm().user_views(from_, n, write=False) if access_ok(from_, n) else ([], 0)
    if ok:
        copy_views(buffer_views(to, ok, write=True), views)
    if ok < n:
        # The uncopied tail is zeroed so that no stale kernel data leaks on.
        fill_views(buffer_views(to, n - ok, write=True, offset=ok), 0)
    return n - ok


def clear_user(to: int, n: int) -> int:
    """Zero ``n`` user bytes; returns the bytes not cleared."""
    n = _check(n)
    if n == 0 or not access_ok(to, n):
        return n
    views, ok = current_mm().user_views(to, n, write=True)
    fill_views(views, 0)
    return n - ok
