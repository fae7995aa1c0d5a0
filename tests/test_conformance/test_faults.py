"""Fault configurations (faults.py) and the ledger's extended leak check."""

from __future__ import annotations

import pytest

import iovcrypto as iov
import kmem
from iovcrypto.tools.conformance import faults as F
from iovcrypto.tools.conformance import session as S
from iovcrypto.tools.conformance import vec_cfg as V
from kmem import sanitizer


def test_leak_check_sees_every_allocation_class() -> None:
    mm = kmem.mm_alloc()
    with kmem.leak_check() as leaks:
        a = kmem.kmalloc(10, kmem.GFP_KERNEL)
        p = kmem.alloc_pages(kmem.GFP_KERNEL, 1)
        v = kmem.vmalloc(9000)
        u = mm.mmap(2 * kmem.PAGE_SIZE)
        freed = kmem.kmalloc(20, kmem.GFP_KERNEL)
        kmem.kfree(freed)
    kinds = sorted(r.kind for r in leaks)
    assert kinds == ["kmalloc-leak", "mmap-leak", "page-leak", "vmalloc-leak"]
    # Reported once: the records were taken, the allocations forgotten.
    sanitizer.take(0, tuple(kinds))
    assert not kmem.live_allocations(0) or all(
        k not in (("kmalloc", a),) for k in kmem.live_allocations(0))
    kmem.kfree(a)
    kmem.__free_pages(p, 1)
    kmem.vfree(v)
    mm.munmap(u, 2 * kmem.PAGE_SIZE)


def test_leak_check_is_clean_when_everything_is_freed() -> None:
    mm = kmem.mm_alloc()
    with kmem.leak_check() as leaks:
        kmem.kfree(kmem.kmalloc(10, kmem.GFP_KERNEL))
        kmem.vfree(kmem.vmalloc(5000))
        u = mm.mmap(3 * kmem.PAGE_SIZE)
        mm.munmap(u + kmem.PAGE_SIZE, kmem.PAGE_SIZE)   # split, then the rest
        mm.munmap(u, 3 * kmem.PAGE_SIZE)
    assert leaks == []


def test_mprotect_makes_a_page_fault_on_write_only() -> None:
    mm = kmem.mm_alloc()
    u = mm.mmap(3 * kmem.PAGE_SIZE)
    assert mm.mprotect(u + kmem.PAGE_SIZE, kmem.PAGE_SIZE, kmem.PROT_READ) == 0
    assert mm.user_views(u, 3 * kmem.PAGE_SIZE, False)[1] == 3 * kmem.PAGE_SIZE
    assert mm.user_views(u, 3 * kmem.PAGE_SIZE, True)[1] == kmem.PAGE_SIZE
    assert mm.mprotect(u + 1, 10, kmem.PROT_READ) == -kmem.errno.EINVAL
    assert mm.mprotect(u + 8 * kmem.PAGE_SIZE, 10, kmem.PROT_READ) == -kmem.errno.ENOMEM
    mm.munmap(u, 3 * kmem.PAGE_SIZE)


def _spy(monkeypatch: pytest.MonkeyPatch) -> list:
    log: list = []
    orig = V.run_vec_cfg

    def spy(ctx, tfm, vec, name, cfg, enc, real=None, sg_kind="page", fault=None):
        ok = orig(ctx, tfm, vec, name, cfg, enc, real, sg_kind, fault)
        if fault is not None:
            log.append((ctx.target.api, fault, ctx.last_shot))
        return ok
    monkeypatch.setattr(V, "run_vec_cfg", spy)
    return log


def test_every_fault_kind_fires_in_the_default_run(monkeypatch: pytest.MonkeyPatch) -> None:
    log = _spy(monkeypatch)
    rep = S.run(S.Options(alg="cbc(aes)", fuzz=0))
    assert rep.passed
    fired = {(api, f.kind, f.side) for api, f, shot in log if shot and shot.fired}
    for api in ("sg", "iter", "bridge-sg", "bridge-iter"):
        assert (api, "alloc", "") in fired
    for api in ("iter", "bridge-iter"):
        assert {(api, "user-unmap", "src"), (api, "user-unmap", "dst"),
                (api, "user-wprotect", "dst")} <= fired


def test_alloc_fault_counts_then_fails_each_allocation() -> None:
    kind = F.FAULT_KINDS["alloc"]
    with kind.inject(F.Fault("alloc"), None) as shot:
        a, b = kmem.kmalloc(8, kmem.GFP_KERNEL), kmem.kmalloc(8, kmem.GFP_KERNEL)
    assert (shot.count, shot.fired) == (2, False)
    kmem.kfree(a)
    kmem.kfree(b)
    with kind.inject(F.Fault("alloc", 2), None) as shot:
        a, b = kmem.kmalloc(8, kmem.GFP_KERNEL), kmem.kmalloc(8, kmem.GFP_KERNEL)
    assert shot.fired and a and not b
    kmem.kfree(a)
    assert [f.nth for f in kind.plan(2, None)] == [1, 2]


def test_a_driver_that_moves_iterators_on_a_fault_is_caught(monkeypatch) -> None:
    """Planted: the API hands the driver the caller's iterators instead of
    private copies, and the driver has moved src by the time user memory
    faults."""
    import iovcrypto.api as A
    import iovcrypto.skcipher as SK

    orig_run = A.run_on_iters

    def run(req, need_src, need_dst, call, zero_on_error=None):
        def call_and_advance():
            err = call()
            if err == -kmem.errno.EFAULT and req.src is not None:
                iov.iov_iter_advance(req.src, min(16, req.src.count))
            return err
        return orig_run(req, need_src, need_dst, call_and_advance, zero_on_error)
    monkeypatch.setattr(A, "_private_copy", lambda it: it)
    monkeypatch.setattr(SK, "run_on_iters", run)
    rep = S.run(S.Options(alg="cbc(aes)", api="iter", fuzz=0))
    msgs = [f.message for _, r in rep.results for f in r.failures]
    assert msgs and all("fault: user-" in m for m in msgs), msgs[:3]
    assert any("src iov_iter misplaced (moved although the call failed)" in m for m in msgs)
