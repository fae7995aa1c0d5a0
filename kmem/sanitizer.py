"""The sanitizer ledger: what KASAN, lockdep, DEBUG_SG and WARN() would say.

Every violation of the memory rules (a reference taken where the memory kind
forbids it, CPU access to device memory, access past a buffer, use after
free, unbalanced kmap, a pin released twice, sleeping under RCU, ...) and
every WARN is recorded here with a short stack summary.  The model then
carries on as the kernel would, so that a test sees both the record and the
kernel's return value.

Outstanding pins and kmaps are not records until someone asks: a test
harness calls :func:`check_leaks` when a test ends.  Allocations (pages
and folios from the page allocator, kmalloc objects, vmalloc and vmap
areas, user mappings) are tracked too, stamped with a sequence number:
``pos = allocation_mark()`` before a piece of work and
``check_leaks(since=pos)`` after it turn whatever was allocated in
between and is still live into leak records (:func:`leak_check` wraps the
two around a block).  The kernel's kmemleak cannot say who should have
freed an object; neither can this, but a bounded window around one call
says exactly which call leaked.
"""

from __future__ import annotations

import os
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from kmem.errno import KernelBug

# The kinds of record.  Tests and harnesses match on these names.
REF_FORBIDDEN = "ref-forbidden"          # get_page() on slab/stack/device memory
DEVICE_ACCESS = "device-access"          # CPU touched device memory
OUT_OF_BOUNDS = "out-of-bounds"          # access past an allocation
USE_AFTER_FREE = "use-after-free"
DOUBLE_FREE = "double-free"
INVALID_FREE = "invalid-free"            # kfree/vfree of an address it did not return
KMAP_UNBALANCED = "kmap-unbalanced"      # kunmap out of LIFO order or of nothing
KMAP_LEAK = "kmap-leak"                  # kmap still held at the end
PIN_LEAK = "pin-leak"                    # pin still held at the end
UNPIN_UNPINNED = "unpin-unpinned"        # unpin of a page that was not pinned
VIRT_TO_PAGE = "virt_to_page-nonlinear"  # virt_to_page() on vmalloc/stack memory
SLEEP_IN_ATOMIC = "sleep-in-atomic"      # might_sleep() under RCU or kmap_atomic
PAGE_LEAK = "page-leak"                  # alloc_pages/folio_alloc never freed
KMALLOC_LEAK = "kmalloc-leak"            # kmalloc object never kfreed
VMALLOC_LEAK = "vmalloc-leak"            # vmalloc/vmap area never vfreed/vunmapped
MMAP_LEAK = "mmap-leak"                  # user mapping never unmapped
WARNING = "warn"                         # a kernel WARN()

_KMEM_DIR = os.path.dirname(os.path.abspath(__file__))


class KernelWarning(UserWarning):
    """Emitted (as a Python warning) for every kernel WARN the model hits."""


@dataclass(frozen=True)
class Record:
    kind: str
    message: str
    where: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.message} (at {self.where})"


def _where() -> str:
    """A short stack summary: the innermost frames outside kmem itself."""
    frames = [
        f for f in traceback.extract_stack()[:-2]
        if not f.filename.startswith(_KMEM_DIR)
    ]
    last = frames[-3:]
    return " <- ".join(
        f"{os.path.basename(f.filename)}:{f.lineno} {f.name}" for f in reversed(last)
    )


@dataclass
class Ledger:
    records: list[Record] = field(default_factory=list)
    # Live state the leak check looks at; kmem's modules keep these current.
    pins: dict = field(default_factory=dict)     # folio -> pins held
    kmaps: list = field(default_factory=list)    # (vaddr, page, "local"/"atomic"/"global")
    # Live allocations: (class, key) -> (sequence number, description), in
    # allocation order; the allocators keep it current (note_alloc/note_free).
    live: dict = field(default_factory=dict)
    seq: int = 0

    def record(self, kind: str, message: str) -> Record:
        rec = Record(kind, message, _where())
        self.records.append(rec)
        return rec


ledger = Ledger()


def report(kind: str, message: str) -> Record:
    """Record a violation of kind ``kind``."""
    return ledger.record(kind, message)


def WARN(condition: object, message: str = "WARN") -> bool:
    """The kernel's ``WARN(cond, ...)``: record and warn when ``condition``
    holds; return it so that callers can write ``if WARN(...): return 0``."""
    if _truth("WARN", condition):
        rec = ledger.record(WARNING, message)
        warnings.warn(str(rec), KernelWarning, stacklevel=3)
        return True
    return False


def _truth(what: str, condition: object) -> bool:
    try:
        return bool(condition)
    except ValueError as e:     # a numpy array of several elements, say
        raise TypeError(f"{what}(): condition must be true or false, "
                        f"got {type(condition).__name__}") from e


WARN_ON = WARN
WARN_ON_ONCE = WARN


def BUG_ON(condition: object, message: str = "BUG") -> None:
    """The kernel's ``BUG_ON(cond)``: raise :class:`KernelBug`."""
    if _truth("BUG_ON", condition):
        raise KernelBug(message)


_LEAK_KIND = {"page": PAGE_LEAK, "kmalloc": KMALLOC_LEAK, "vmalloc": VMALLOC_LEAK,
              "mmap": MMAP_LEAK}


def note_alloc(cls: str, key: object, what: str) -> None:
    """An allocator hands out ``key`` (class ``cls``: "page", "kmalloc",
    "vmalloc" or "mmap")."""
    ledger.seq += 1
    ledger.live[(cls, key)] = (ledger.seq, what)


def note_free(cls: str, key: object) -> tuple[int, str] | None:
    """``key`` went back to its allocator; what was noted for it, if any."""
    return ledger.live.pop((cls, key), None)


# Allocations that live in structures of their own (user mappings in their
# mm) are found by scanners: f(since) -> [(class, key, what, forget)].
_scanners: list = []


def register_allocation_scanner(scan: object) -> None:
    """Have ``scan(since)`` consulted by :func:`live_allocations`; it
    returns ``(class, key, description, forget)`` for each live allocation
    newer than ``since``, ``forget()`` dropping it from its tracking."""
    _scanners.append(scan)


def next_seq() -> int:
    """A fresh allocation sequence number (for scanned allocations)."""
    ledger.seq += 1
    return ledger.seq


def allocation_mark() -> int:
    """A point in the allocation history, for ``check_leaks(since=...)``."""
    return ledger.seq


def live_allocations(since: int = 0) -> list[tuple[str, object, str]]:
    """``(class, key, description)`` of every allocation made after
    ``since`` that is still live, oldest first."""
    return [(c, k, w) for c, k, w, _ in _live(since)]


def _live(since: int) -> list[tuple]:
    out = []
    for (cls, key), (seq, what) in reversed(ledger.live.items()):
        if seq <= since:
            break
        out.append((cls, key, what, lambda k=(cls, key): ledger.live.pop(k, None)))
    out.reverse()
    for scan in _scanners:
        out += scan(since)
    return out


def check_leaks(since: int | None = None) -> list[Record]:
    """Turn outstanding pins and kmaps into records and forget them; with
    ``since`` (an :func:`allocation_mark`), also every page, folio,
    kmalloc object, vmalloc area and user mapping allocated after it and
    still live (each reported once: it is forgotten, not freed).

    Called when a test (or a conformance check) ends, so that one leak is
    reported once and does not poison what runs next."""
    found = []
    for folio, n in list(ledger.pins.items()):
        found.append(ledger.record(PIN_LEAK, f"{n} pin(s) still held on {folio!r}"))
        folio._pincount -= n
        folio._refcount -= n
    ledger.pins.clear()
    for vaddr, page, _how in reversed(ledger.kmaps):
        found.append(ledger.record(KMAP_LEAK, f"kmap of {page!r} at {vaddr:#x} never unmapped"))
    ledger.kmaps.clear()
    if since is not None:
        for cls, _key, what, forget in _live(since):
            found.append(ledger.record(_LEAK_KIND[cls], f"{what} never freed"))
            forget()
    return found


@contextmanager
def leak_check() -> Iterator[list[Record]]:
    """``with leak_check() as leaks:`` -- after the block, ``leaks`` holds
    the records of every pin, kmap and allocation made inside it and not
    released (they also stay in the ledger, so a test that leaks fails)."""
    pos = allocation_mark()
    found: list[Record] = []
    yield found
    found.extend(check_leaks(since=pos))


def mark() -> int:
    """A position in the ledger, for :func:`since`."""
    return len(ledger.records)


def since(position: int) -> list[Record]:
    """The records made after :func:`mark` returned ``position``."""
    return ledger.records[position:]


def take(position: int, kinds: tuple[str, ...] = ()) -> tuple[list[Record], list[Record]]:
    """Remove the records made since ``position`` whose kind is in ``kinds``.

    Returns ``(taken, remaining)``; the remaining records stay in the ledger.
    """
    new = ledger.records[position:]
    taken = [r for r in new if r.kind in kinds]
    remaining = [r for r in new if r.kind not in kinds]
    del ledger.records[position:]
    ledger.records.extend(remaining)
    return taken, remaining


@contextmanager
def expect_violations(*kinds: str) -> Iterator[list[Record]]:
    """Expect each of ``kinds`` to be recorded inside the block.

    The matching records are removed from the ledger (they were expected)
    and handed to the caller; an expected kind that was not recorded raises
    ``AssertionError``.  Other records stay, so an unexpected violation still
    fails the test.
    """
    pos = mark()
    got: list[Record] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KernelWarning)
        yield got
    check_leaks_now = {PIN_LEAK, KMAP_LEAK} & set(kinds)
    if check_leaks_now:
        check_leaks()
    taken, _ = take(pos, kinds)
    got.extend(taken)
    missing = [k for k in kinds if not any(r.kind == k for r in taken)]
    if missing:
        raise AssertionError(f"expected sanitizer record(s) {missing} were not made")
