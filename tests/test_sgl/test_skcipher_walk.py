"""skcipher_walk over scatterlists: step sizing, slow/copy paths, IV, AEAD."""

import numpy as np
import pytest

import kmem
from kmem import PAGE_SIZE
from kmem import errno as E
from sgl import (
    SKCIPHER_WALK_COPY,
    SKCIPHER_WALK_DIFF,
    SKCIPHER_WALK_SLOW,
    SkcipherWalk,
    crypto_alloc_skcipher,
    crypto_free_skcipher,
    crypto_register_skcipher,
    crypto_skcipher_encrypt,
    crypto_skcipher_setkey,
    crypto_unregister_skcipher,
    skcipher_request_alloc,
    skcipher_request_free,
    skcipher_request_set_crypt,
    skcipher_walk_abort,
    skcipher_walk_done,
    skcipher_walk_virt,
)
from tests.test_sgl.layouts import build
from tests.test_sgl.toy_drivers import XorSkcipher, xor_reference


@pytest.fixture
def tfm_factory():
    made = []

    def make(**kw):
        drv = XorSkcipher(driver=f"xor-walk-{len(made)}", **kw)
        assert crypto_register_skcipher(drv) == 0
        tfm = crypto_alloc_skcipher(drv.alg.cra_driver_name)
        assert crypto_skcipher_setkey(tfm, b"\x5a" * 16, 16) == 0
        made.append((drv, tfm))
        return tfm

    yield make
    for drv, tfm in made:
        crypto_free_skcipher(tfm)
        crypto_unregister_skcipher(drv)


def _walk_all(req, process=None, stream=True):
    """Run a walk, processing whole blocks (and, if ``stream``, a final
    partial block); returns (err, steps, flags)."""
    walk = SkcipherWalk()
    err = skcipher_walk_virt(walk, req, False)
    steps, flags = [], []
    bs = walk.blocksize
    while walk.nbytes:
        assert len(walk.src_view) == len(walk.dst_view) == walk.nbytes
        n = walk.nbytes - walk.nbytes % bs
        if stream and walk.nbytes == walk.total:
            n = walk.nbytes
        steps.append(walk.nbytes)
        flags.append(walk.flags)
        walk.dst_view[:n] = walk.src_view[:n] if process is None else process(walk.src_view[:n])
        err = skcipher_walk_done(walk, walk.nbytes - n)
    return err, steps, flags


def _req(tfm, src, dst, n, iv=None):
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    skcipher_request_set_crypt(req, src.sgl, dst.sgl, n, iv if iv is not None else bytearray(16))
    return req


@pytest.mark.parametrize("limit", [None, PAGE_SIZE])
def test_fast_path_steps_follow_entries_and_page_limit(tfm_factory, monkeypatch, limit):
    import sgl.skcipher_walk

    monkeypatch.setattr(sgl.skcipher_walk, "WALK_STEP_LIMIT", limit)
    tfm = tfm_factory(blocksize=16)
    src = build([("folio", 2 * PAGE_SIZE + 512), ("page", 1024)], seed=1)
    dst = build([("folio", 3 * PAGE_SIZE + 1536)], seed=2, fill=False)
    n = 2 * PAGE_SIZE + 512 + 1024
    req = _req(tfm, src, dst, n)
    err, steps, flags = _walk_all(req, lambda v: v ^ 0xFF)
    assert err == 0 and sum(steps) == n
    if limit:
        assert max(steps) <= PAGE_SIZE           # the kernel's steps
    else:
        assert steps == [2 * PAGE_SIZE + 512, 1024]   # whole entries
    assert all(f & SKCIPHER_WALK_DIFF for f in flags)
    assert np.array_equal(dst.flat()[:n], src.flat() ^ 0xFF)
    skcipher_request_free(req)
    src.free()
    dst.free()


def test_in_place_same_view_no_diff(tfm_factory):
    tfm = tfm_factory(blocksize=16)
    lay = build([("page", 4096)], seed=3)
    before = lay.flat()
    req = _req(tfm, lay, lay, 4096)
    walk = SkcipherWalk()
    assert skcipher_walk_virt(walk, req, False) == 0
    assert walk.src_view is walk.dst_view and not walk.flags & SKCIPHER_WALK_DIFF
    assert walk.src.virt.addr == walk.dst.virt.addr
    walk.dst_view[:] = 1
    assert skcipher_walk_done(walk, 0) == 0 and walk.nbytes == 0
    assert (lay.flat() == 1).all() and not (before == 1).all()
    skcipher_request_free(req)
    lay.free()


def test_slow_path_blocks_straddling_one_byte_entries(tfm_factory):
    tfm = tfm_factory(blocksize=16)
    src = build([("page", 1)] * 40 + [("page", 8)], chunk=6, seed=4)
    dst = build([("page", 3), ("page", 45)], seed=5, fill=False)
    req = _req(tfm, src, dst, 48)
    err, steps, flags = _walk_all(req, lambda v: v + 1)
    assert err == 0 and steps == [16, 16, 16]
    assert all(f & SKCIPHER_WALK_SLOW for f in flags)
    assert np.array_equal(dst.flat(), (src.flat() + 1).astype(np.uint8))
    assert not kmem.ledger.kmaps
    skcipher_request_free(req)
    src.free()
    dst.free()


def test_total_below_blocksize_is_einval(tfm_factory):
    tfm = tfm_factory(blocksize=16)
    lay = build([("page", 40)], seed=6)
    req = _req(tfm, lay, lay, 20)
    err, steps, _ = _walk_all(req, stream=False)
    assert err == -E.EINVAL and steps == [20]
    assert _walk_all(req, stream=True)[0] == 0     # a driver that takes the tail
    req2 = _req(tfm, lay, lay, 8)
    walk = SkcipherWalk()
    assert skcipher_walk_virt(walk, req2, False) == -E.EINVAL and walk.nbytes == 0
    skcipher_request_free(req)
    skcipher_request_free(req2)
    lay.free()


def test_unprocessed_bytes_on_slow_path_is_einval(tfm_factory):
    tfm = tfm_factory(blocksize=16)
    src = build([("page", 7), ("page", 9)], seed=7)
    req = _req(tfm, src, src, 16)
    walk = SkcipherWalk()
    assert skcipher_walk_virt(walk, req, False) == 0
    assert walk.flags & SKCIPHER_WALK_SLOW
    assert skcipher_walk_done(walk, 4) == -E.EINVAL and walk.nbytes == 0
    skcipher_request_free(req)
    src.free()


def test_unprocessed_bytes_come_back_next_step(tfm_factory):
    tfm = tfm_factory(blocksize=1, ivsize=0)
    lay = build([("page", 100)], seed=8)
    req = _req(tfm, lay, lay, 100)
    walk = SkcipherWalk()
    skcipher_walk_virt(walk, req, False)
    assert walk.nbytes == 100
    skcipher_walk_done(walk, 30)
    assert walk.nbytes == 30 and walk.total == 30
    skcipher_walk_done(walk, 0)
    assert walk.nbytes == 0
    skcipher_request_free(req)
    lay.free()


def test_alignmask_copy_path_and_misaligned_iv_copy_back(tfm_factory):
    tfm = tfm_factory(blocksize=16, alignmask=15)
    src = build([("page", 64)], seed=9)
    src.pieces[0] = src.pieces[0]
    req_src = src.sgl[0]
    req_src.offset |= 1                                # misaligned data
    if req_src.offset + 64 > PAGE_SIZE:
        req_src.offset = 1
    iv_addr = kmem.kmalloc(64, kmem.GFP_KERNEL) + 3    # misaligned IV
    kmem.write_virt(iv_addr, bytes(range(16)))
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    skcipher_request_set_crypt(req, src.sgl, src.sgl, 64, iv_addr)
    walk = SkcipherWalk()
    assert skcipher_walk_virt(walk, req, False) == 0
    assert walk.flags & SKCIPHER_WALK_COPY and walk.page
    assert walk.iv is not None and walk.buffer
    data = kmem.gather(kmem.page_views(req_src._link, req_src.offset, 64))
    assert np.array_equal(walk.src_view, data)
    walk.dst_view[:] = 0xAB
    walk.iv[:] = 0xCD
    assert kmem.read_virt(iv_addr, 16) == bytes(range(16))   # not yet copied back
    assert skcipher_walk_done(walk, 0) == 0
    assert kmem.read_virt(iv_addr, 16) == b"\xcd" * 16
    assert (kmem.gather(kmem.page_views(req_src._link, req_src.offset, 64)) == 0xAB).all()
    kmem.kfree(iv_addr - 3)
    skcipher_request_free(req)
    src.free()


def test_enomem_for_slow_buffer(tfm_factory):
    tfm = tfm_factory(blocksize=16)
    src = build([("page", 8), ("page", 8)], seed=10)
    req = _req(tfm, src, src, 16)
    walk = SkcipherWalk()
    with kmem.fail_allocations(times=1):
        assert skcipher_walk_virt(walk, req, False) == -E.ENOMEM
    assert walk.nbytes == 0
    skcipher_request_free(req)
    src.free()


def test_abort_and_zero_length(tfm_factory):
    tfm = tfm_factory(blocksize=16)
    lay = build([("page", 4), ("page", 60)], seed=11)
    req = _req(tfm, lay, lay, 64)
    walk = SkcipherWalk()
    skcipher_walk_virt(walk, req, False)
    assert walk.flags & SKCIPHER_WALK_SLOW
    skcipher_walk_abort(walk)
    assert walk.nbytes == 0
    req0 = _req(tfm, lay, lay, 0)
    assert skcipher_walk_virt(walk, req0, False) == 0 and walk.nbytes == 0
    skcipher_request_free(req)
    skcipher_request_free(req0)
    lay.free()


def test_driver_over_stride_and_mixed_kinds(tfm_factory):
    tfm = tfm_factory(blocksize=16, walksize=64, ivsize=16)
    src = build([("page", 30), ("kmalloc", 50), ("stack", 200), ("vmalloc", 9000)], chunk=2,
                seed=12)
    dst = build([("vmalloc", src.total)], seed=13, fill=False)
    iv = bytearray(16)
    req = _req(tfm, src, dst, src.total, iv)
    assert crypto_skcipher_encrypt(req) == 0
    assert dst.flat().tobytes() == xor_reference(src.flat().tobytes(), b"\x5a" * 16)
    assert bytes(iv) == dst.flat()[-16:].tobytes()
    steps = tfm.impl.steps
    assert sum(steps) == src.total and all(s % 16 == 0 for s in steps)
    assert 64 in steps          # the 30-byte entry forces a stride-sized bounce
    skcipher_request_free(req)
    src.free()
    dst.free()
