"""Fault configurations: error paths the conformance run drives on purpose.

A buffer configuration (:mod:`.configs`) says how the bytes are laid out;
a *fault* says what goes wrong while one request runs.  The runner builds
the layout as usual, arms the fault around the one crypt call
(``crypto_*_encrypt``/``decrypt`` and its completion), and then demands,
whatever the API, driver or bridge:

- the call returns 0 (the fault did not fire, or the driver survived it
  and the output is right) or one of the fault kind's documented errnos;
- request fields unchanged; for iov_iters both iterators exactly where
  they were (DESIGN §7); for scatterlists the entries unchanged;
- no unauthenticated plaintext: an iov_iter AEAD decryption that fails
  leaves no plaintext in dst;
- a clean ledger, with the extended leak check (pins, kmaps, pages,
  folios, kmalloc, vmalloc, user mappings).

Fault kinds (:data:`FAULT_KINDS`):

- ``alloc``: the Nth allocation (pages, slab or vmalloc; 1-based) made
  during the call fails, as CONFIG_FAIL_PAGE_ALLOC/FAILSLAB make it.  The
  runner first counts the allocations the call makes (a probe run), then
  fails a sample of them: every one when there are few, else the first,
  the last and one in between.  Errno: -ENOMEM.
- ``user-unmap``: the user page in the middle of a UBUF/IOVEC src or dst
  is unmapped (``munmap``) before the call.  Errno: -EFAULT.
- ``user-wprotect``: the user page in the middle of a UBUF/IOVEC dst is
  made read-only (``mprotect(PROT_READ)``).  Errno: -EFAULT.

Adding a fault kind (e.g. DMA mapping or device failures): subclass
:class:`FaultKind`, set ``name`` and ``errnos``, implement
``applies(target, realisation)`` (which targets and iov_iter
realisations it makes sense for: look at ``target.world``,
``target.api``, ``target.driver``), ``plan(probe_count, rng)`` (the
:class:`Fault` instances to run; ``probe_count`` is the number of
allocations the call made in the probe run, if you need a count of your
own, count it in ``inject`` with ``fault.nth == 0`` and set
``needs_probe``) and ``inject(fault, site)``, a context manager that arms
the fault for the duration of the call and yields a :class:`Shot` whose
``fired`` it sets when the fault actually hit; undo everything on exit
(the runner reads dst back afterwards).  Then
``register_fault_kind(YourKind())``.  Nothing else in the harness changes.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

import kmem
from kmem import PAGE_SIZE
from kmem import errno as E
from kmem.page_alloc import fail_allocations


@dataclass(frozen=True)
class Fault:
    """One fault configuration: its kind and where it hits."""

    kind: str
    nth: int = 0          # alloc: fail the nth allocation of the call (1-based)
    side: str = ""        # memory faults: "src" or "dst"

    @property
    def name(self) -> str:
        if self.kind == "alloc":
            return f"fault: allocation #{self.nth} fails"
        if self.side:
            return f"fault: {self.kind} in the middle of {self.side}"
        return f"fault: {self.kind}" + (f" #{self.nth}" if self.nth else "")


@dataclass
class Shot:
    """What happened to an armed fault: did it hit, and how many events
    (allocations, for the probe) went by."""

    fired: bool = False
    count: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class Site:
    """What a fault can reach: the target, the iov_iter realisation (None
    for scatterlists) and the realised layout (``runner._Layout``)."""

    target: object
    realisation: tuple[str, str] | None
    layout: object


class FaultKind(abc.ABC):
    """A kind of fault (see the module docstring for how to add one)."""

    name = ""
    errnos: tuple[int, ...] = ()
    needs_probe = False

    def applies(self, target: object, realisation: tuple[str, str] | None) -> bool:
        return True

    @abc.abstractmethod
    def plan(self, probe_count: int, rng: object) -> list[Fault]:
        """The faults to try, given how many times the probe run reached
        the fault site."""

    @abc.abstractmethod
    def inject(self, fault: Fault, site: Site) -> contextlib.AbstractContextManager[Shot]:
        """A context manager arming ``fault`` at ``site`` for one request."""


class AllocFault(FaultKind):
    name = "alloc"
    errnos = (-E.ENOMEM,)
    needs_probe = True
    _PROBE = 1 << 30

    def plan(self, probe_count: int, rng: object) -> list[Fault]:
        if probe_count <= 3:
            ns = list(range(1, probe_count + 1))
        else:
            ns = [1, 2 + rng.below(probe_count - 2), probe_count]
        return [Fault(self.name, n) for n in ns]

    @contextmanager
    def inject(self, fault: Fault, site: Site) -> Iterator[Shot]:
        shot = Shot()
        probe = fault.nth == 0
        fa = fail_allocations(after=self._PROBE if probe else fault.nth - 1, times=1)
        try:
            with fa:
                yield shot
        finally:
            shot.count = fa.passed
            shot.fired = fa.failed > 0


def _user_page(site: Site, side: str) -> tuple[kmem.MmStruct, int] | None:
    """(mm, address) of the user page holding the middle of ``side``'s
    bytes, chosen past the first page the side touches so that the fault
    hits after the request made progress."""
    lay = site.layout
    t = lay.t.src if side == "src" else lay.t.dst
    it = lay.src if side == "src" else lay.dst
    total = it.count
    if not total or not t.pieces or not hasattr(t.pieces[0].area, "mm"):
        return None
    pos = total // 2
    p0 = t.pieces[0]
    first = PAGE_SIZE - (p0.area.uaddr + p0.offset) % PAGE_SIZE
    if pos < first < total:
        pos = first
    for p in t.pieces:
        if pos < p.length:
            return p.area.mm, (p.area.uaddr + p.offset + pos) & ~(PAGE_SIZE - 1)
        pos -= p.length
    return None


class UserFault(FaultKind):
    """A user page of src or dst taken away (unmapped) or made read-only."""

    errnos = (-E.EFAULT,)

    def __init__(self, name: str, sides: tuple[str, ...]) -> None:
        self.name = name
        self.sides = sides

    def applies(self, target: object, realisation: tuple[str, str] | None) -> bool:
        return realisation is not None and realisation[1] == "user"

    def plan(self, probe_count: int, rng: object) -> list[Fault]:
        return [Fault(self.name, side=s) for s in self.sides]

    @contextmanager
    def inject(self, fault: Fault, site: Site) -> Iterator[Shot]:
        shot = Shot()
        where = _user_page(site, fault.side)
        if where is None:
            yield shot
            return
        mm, page = where
        shot.fired = True
        if self.name == "user-unmap":
            # Keep the contents to put back: the runner reads the buffers
            # afterwards, and a fresh page would read as zeroes.
            views, got = mm.user_views(page, PAGE_SIZE, False)
            saved = kmem.gather(views).tobytes() if got == PAGE_SIZE else bytes(PAGE_SIZE)
            mm.munmap(page, PAGE_SIZE)
            try:
                yield shot
            finally:
                mm.mmap(PAGE_SIZE, addr=page)
                views, _ = mm.user_views(page, PAGE_SIZE, True)
                kmem.copy_views(views, [np.frombuffer(saved, dtype=np.uint8)])
        else:
            mm.mprotect(page, PAGE_SIZE, kmem.PROT_READ)
            try:
                yield shot
            finally:
                mm.mprotect(page, PAGE_SIZE, kmem.PROT_READ | kmem.PROT_WRITE)


FAULT_KINDS: dict[str, FaultKind] = {}


def register_fault_kind(kind: FaultKind) -> None:
    """Add a fault kind to every conformance run."""
    if not kind.name or kind.name in FAULT_KINDS:
        raise ValueError(f"fault kind name {kind.name!r} is empty or taken")
    FAULT_KINDS[kind.name] = kind


register_fault_kind(AllocFault())
register_fault_kind(UserFault("user-unmap", ("src", "dst")))
register_fault_kind(UserFault("user-wprotect", ("dst",)))


def kind_of(fault: Fault) -> FaultKind:
    return FAULT_KINDS[fault.kind]
