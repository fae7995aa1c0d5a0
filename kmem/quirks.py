"""Upstream kernel bugs the model can reproduce, each behind a switch.

The model follows the fixed kernel.  Where a bug sat in a released kernel
(and so in what a developer on that kernel runs), the old behaviour stays
reachable under a switch named for the kernels that have it, so that the
conformance harness can be shown to catch it and a developer can see
what their kernel does::

    from kmem import kernel_quirks
    with kernel_quirks("extract_xarray_to_sg_offset_v6_3_to_v7_1"):
        ...                      # extract_iter_to_sg() as those kernels have it

Every switch is off unless turned on; :data:`QUIRKS` says, for each, the
function, the kernels, the fix and what goes wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Quirk:
    name: str
    function: str      # the kernel function (file) that has the bug
    kernels: str       # the releases that have it
    fix: str           # the upstream fix
    effect: str        # what goes wrong, in one sentence


QUIRKS: dict[str, Quirk] = {q.name: q for q in (
    Quirk("extract_xarray_to_sg_offset_v6_3_to_v7_1",
          "extract_xarray_to_sg() (lib/scatterlist.c; fs/netfs/iterator.c before v6.5)",
          "v6.3 (netfs_extract_iter_to_sg) to the fix; in lib/scatterlist.c since v6.5 "
          "(f5f82cd18732, the commit the fix names)",
          "132e70406412 \"scatterlist: Fix offset in folio calc in extract_xarray_to_sg()\" "
          "(linux-next pending-fixes, 2026-07-01; adds start += len)",
          "every folio's offset is taken from the starting position, so when an ITER_XARRAY "
          "starts inside a folio and spans several, the second and later entries get the "
          "first one's offset: wrong data, or -EFAULT past the end of a folio"),
    Quirk("iov_iter_extract_xarray_pages_underflow_v6_3_to_v7_1",
          "iov_iter_extract_xarray_pages() (lib/iov_iter.c)",
          "v6.3 (7d58fe731028) to the fix",
          "\"iov_iter: Fix potential underflow in iov_iter_extract_xarray_pages()\" "
          "(20260616100821.2062304-4-dhowells@redhat.com, v4 03/30; sets maxsize to 0 "
          "when no page was found)",
          "when no page is found (a hole in the xarray) and the start is not page aligned, "
          "nr * PAGE_SIZE - offset underflows, so the call claims maxsize bytes it did not "
          "extract and advances the iterator past them"),
)}

_enabled: set[str] = set()


def quirk(name: str) -> bool:
    """Is the kernel bug ``name`` switched on?"""
    return name in _enabled


def _check(name: str) -> None:
    if name not in QUIRKS:
        raise ValueError(f"unknown kernel quirk {name!r}; known: {', '.join(QUIRKS)}")


def set_kernel_quirk(name: str, on: bool) -> None:
    """Switch the kernel bug ``name`` on or off (process-wide)."""
    _check(name)
    (_enabled.add if on else _enabled.discard)(name)


@contextmanager
def kernel_quirks(*names: str) -> Iterator[None]:
    """Run the block with the kernel bugs ``names`` switched on."""
    for n in names:
        _check(n)
    saved = set(_enabled)
    _enabled.update(names)
    try:
        yield
    finally:
        _enabled.clear()
        _enabled.update(saved)
