"""The iov_iter skcipher_walk: random layouts of src and dst of every
iterator type (1-byte segments included), in place and out of place; the
walk visits exactly cryptlen bytes in order, in steps the kernel would
make, and the toy cipher's result equals a flat reference."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kmem
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    SKCIPHER_WALK_DIFF,
    SkcipherWalk,
    crypto_alloc_skcipher,
    crypto_free_skcipher,
    crypto_register_skcipher,
    crypto_skcipher_decrypt,
    crypto_skcipher_encrypt,
    crypto_skcipher_setkey,
    crypto_unregister_skcipher,
    iov_iter,
    iov_iter_advance,
    iov_iter_kvec,
    kvec,
    skcipher_request_alloc,
    skcipher_request_free,
    skcipher_request_set_iter,
    skcipher_walk_done,
    skcipher_walk_virt,
)
from iovcrypto import scatterwalk as side_mod
from iovcrypto import skcipher_walk as walk_mod
from kmem import errno as E
from tests.test_iov_crypto.helpers import KINDS, build, fill, get, position
from tests.test_iov_crypto.toy_drivers import XorSkcipher, xor_reference

KEY = b"k3y-for-the-walk"
PAGE = kmem.PAGE_SIZE
# (blocksize, chunksize, walksize): a block mode, a stream mode with
# 16-byte chunks, and a stream mode whose walksize exceeds its chunksize.
MODES = {"block": (16, 0, 0), "stream": (1, 16, 0), "wide": (1, 16, 64)}

seg_lens = st.lists(st.one_of(st.integers(1, 3), st.integers(1, 300), st.integers(1, 5000)),
                    min_size=1, max_size=12)


def _drv(mode):
    bs, chunk, walk = MODES[mode]
    d = XorSkcipher(driver=f"xor-walk-{mode}", blocksize=bs, chunksize=chunk, walksize=walk)
    d.record = True
    return d


def _same_memory_kvecs(n, lens_a, lens_b):
    """Two KVEC iterators over one kmalloc buffer, split differently."""
    addr = kmem.kmalloc(max(n, 1), kmem.GFP_KERNEL)

    def mk(lens, direction):
        segs, off = [], 0
        for ln in lens:
            if off >= n:
                break
            ln = min(ln, n - off)
            segs.append(kvec(addr + off, ln))
            off += ln
        if off < n:
            segs.append(kvec(addr + off, n - off))
        it = iov_iter()
        iov_iter_kvec(it, direction, segs, len(segs), n)
        return it

    return addr, mk(lens_a, ITER_SOURCE), mk(lens_b, ITER_DEST)


@given(mode=st.sampled_from(sorted(MODES)), skind=st.sampled_from(KINDS),
       dkind=st.sampled_from(KINDS),
       place=st.sampled_from(["out", "same-iter", "twin", "same-memory"]),
       slens=seg_lens, dlens=seg_lens, blocks=st.integers(0, 600), tail=st.integers(0, 15),
       start=st.integers(0, PAGE - 1), seed=st.integers(0, 2**16), enc=st.booleans(),
       limit=st.sampled_from([None, PAGE]), window=st.sampled_from([1 << 20, 4096, 37]))
def test_walk_visits_cryptlen_bytes_in_kernel_steps(mode, skind, dkind, place, slens, dlens,
                                                     blocks, tail, start, seed, enc, limit,
                                                     window):
    # The step limit, and the window of views resolved at a time (small
    # windows make the walk refill mid-segment and mid-block).
    saved = walk_mod.WALK_STEP_LIMIT, side_mod.WINDOW
    walk_mod.WALK_STEP_LIMIT, side_mod.WINDOW = limit, window
    try:
        _check_walk(mode, skind, dkind, place, slens, dlens, blocks, tail, start, seed, enc,
                    limit)
    finally:
        walk_mod.WALK_STEP_LIMIT, side_mod.WINDOW = saved


def _check_walk(mode, skind, dkind, place, slens, dlens, blocks, tail, start, seed, enc, limit):
    bs, chunk, walksize = MODES[mode]
    step = chunk or bs
    n = blocks * 16 + (tail if bs == 1 else 0)
    rng = np.random.default_rng(seed)
    drv = _drv(mode)
    assert crypto_register_skcipher(drv) == 0
    tfm = crypto_alloc_skcipher(drv.alg.cra_driver_name)
    assert crypto_skcipher_setkey(tfm, KEY, len(KEY)) == 0
    frees = []
    if place == "same-memory":
        addr, src_it, dst_it = _same_memory_kvecs(n + 5, slens, dlens)
        frees.append(lambda: kmem.kfree(addr))
        data = rng.integers(0, 256, n + 5, dtype=np.uint8)
        kmem.copy_views(kmem.virt_views(addr, n + 5, write=True), [data])

        def result():
            return kmem.gather(kmem.virt_views(addr, n + 5))
    else:
        # One iterator as both src and dst is ITER_DEST (the API's rule).
        src = build(skind, n + 5, slens, seed=seed, start=start,
                    source=place != "same-iter")
        frees.append(src.free)
        data = fill(src, rng)
        src_it = src.it
        if place == "same-iter":
            dst_it, dst = src_it, src
        elif place == "twin":              # a second iterator, same segments
            dst_it, dst = src_it.copy(), src
            dst_it.data_source = False
        else:
            dst = build(dkind, n + 3, dlens, source=False, seed=seed + 1, start=start * 7)
            frees.append(dst.free)
            dst_it = dst.it

        def result():
            return get(dst, 0, dst.count)
    before_dst = result().copy()
    want_src = src_it.copy()
    iov_iter_advance(want_src, n)
    want_dst = dst_it.copy()
    iov_iter_advance(want_dst, n)
    iv = bytearray(16)
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    skcipher_request_set_iter(req, src_it, dst_it, n, iv)
    err = (crypto_skcipher_encrypt if enc else crypto_skcipher_decrypt)(req)
    try:
        assert err == 0
        # Exactly cryptlen bytes, in order.
        seen = np.concatenate(drv.seen) if drv.seen else np.zeros(0, np.uint8)
        assert seen.tobytes() == data[:n].tobytes()
        # Kernel step sizing: at most the step limit (PAGE_SIZE in the
        # kernel); whole chunks except the last; a bounce-buffer step is
        # exactly bsize bytes.
        left = n
        for k, (nbytes, done, slow) in enumerate(drv.steps):
            bsize = min(walksize or step, max(left, bs))
            assert 0 < nbytes <= (limit or n)
            assert done <= nbytes and (done % step == 0 or k == len(drv.steps) - 1)
            if slow:
                assert nbytes == bsize and done == nbytes
            left -= done
        assert left == 0
        out = result()
        assert out[:n].tobytes() == xor_reference(data[:n].tobytes(), KEY)
        assert out[n:].tobytes() == (data if place != "out" else before_dst)[n:len(out)].tobytes()
        if n and n % 16 == 0:        # every step then ends on a whole block
            assert bytes(iv) == (out[n - 16:n] if enc else data[n - 16:n]).tobytes()
        assert position(src_it) == position(want_src)
        if dst_it is not src_it:
            assert position(dst_it) == position(want_dst)
    finally:
        skcipher_request_free(req)
        crypto_free_skcipher(tfm)
        crypto_unregister_skcipher(drv)
        for f in frees:
            f()


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("kind", KINDS)
def test_one_byte_segments(mode, kind):
    """Every block straddles segments: every step goes through the bounce
    buffer, and the result is still the reference."""
    n = 64 + (5 if MODES[mode][0] == 1 else 0)
    drv = _drv(mode)
    assert crypto_register_skcipher(drv) == 0
    tfm = crypto_alloc_skcipher(drv.alg.cra_driver_name)
    crypto_skcipher_setkey(tfm, KEY, len(KEY))
    src = build(kind if kind not in ("folioq", "xarray") else "kvec", n, [1] * n)
    dst = build("iovec", n, [1] * n, source=False)
    data = fill(src, np.random.default_rng(1))
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    skcipher_request_set_iter(req, src.it, dst.it, n, bytearray(16))
    assert crypto_skcipher_encrypt(req) == 0
    assert get(dst, 0, n).tobytes() == xor_reference(data.tobytes(), KEY)
    assert drv.steps and all(slow for _, _, slow in drv.steps)
    assert src.it.count == 0 and dst.it.count == 0
    skcipher_request_free(req)
    crypto_free_skcipher(tfm)
    crypto_unregister_skcipher(drv)
    src.free()
    dst.free()


def _walk_req(tfm, src, dst, n):
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    skcipher_request_set_iter(req, src, dst, n, bytearray(16))
    return req


@pytest.fixture
def block_tfm():
    drv = _drv("block")
    assert crypto_register_skcipher(drv) == 0
    tfm = crypto_alloc_skcipher(drv.alg.cra_driver_name)
    crypto_skcipher_setkey(tfm, KEY, len(KEY))
    yield tfm
    crypto_free_skcipher(tfm)
    crypto_unregister_skcipher(drv)


def test_total_below_blocksize_is_einval(block_tfm):
    src, dst = build("kvec", 15), build("kvec", 15, source=False)
    req = _walk_req(block_tfm, src.it, dst.it, 15)
    walk = SkcipherWalk()
    assert skcipher_walk_virt(walk, req, False) == -E.EINVAL
    assert walk.nbytes == 0 and walk.buffer == 0
    assert src.it.count == 15          # the walk never moves the request's iterators
    skcipher_request_free(req)
    src.free()
    dst.free()


def test_unprocessed_bytes_on_slow_path_is_einval(block_tfm):
    src = build("kvec", 32, [7, 25])
    dst = build("kvec", 32, source=False)
    req = _walk_req(block_tfm, src.it, dst.it, 32)
    walk = SkcipherWalk()
    assert skcipher_walk_virt(walk, req, False) == 0
    assert walk.nbytes == 16 and walk.src_view is walk.dst_view     # bounced
    assert walk.buffer != 0
    assert skcipher_walk_done(walk, 3) == -E.EINVAL
    assert walk.nbytes == 0 and walk.buffer == 0       # freed: the ledger would see a leak
    skcipher_request_free(req)
    src.free()
    dst.free()


def test_diff_flag_and_views(block_tfm):
    src, dst = build("bvec", 64), build("bvec", 64, source=False)
    req = _walk_req(block_tfm, src.it, dst.it, 64)
    walk = SkcipherWalk()
    assert skcipher_walk_virt(walk, req, False) == 0
    assert walk.nbytes == 64 and walk.flags & SKCIPHER_WALK_DIFF
    assert walk.src_view is not walk.dst_view
    walk.dst_view[:] = walk.src_view
    assert skcipher_walk_done(walk, 0) == 0 and walk.nbytes == 0
    assert get(dst, 0, 64).tobytes() == get(src, 0, 64).tobytes()
    skcipher_request_free(req)
    src.free()
    dst.free()


def test_partial_processing_returns_the_rest_next_step(block_tfm):
    src, dst = build("kvec", 96), build("kvec", 96, source=False)
    fill(src, np.random.default_rng(3))
    req = _walk_req(block_tfm, src.it, dst.it, 96)
    walk = SkcipherWalk()
    assert skcipher_walk_virt(walk, req, False) == 0
    assert walk.nbytes == 96
    walk.dst_view[:32] = walk.src_view[:32]
    assert skcipher_walk_done(walk, 64) == 0
    assert walk.nbytes == 64 and walk.total == 64
    assert walk.src_view.tobytes() == get(src, 32, 64).tobytes()
    skcipher_walk_done(walk, -E.ECANCELED)
    assert walk.nbytes == 0
    skcipher_request_free(req)
    src.free()
    dst.free()


def test_res_above_nbytes_warns(block_tfm):
    src, dst = build("kvec", 32), build("kvec", 32, source=False)
    req = _walk_req(block_tfm, src.it, dst.it, 32)
    walk = SkcipherWalk()
    assert skcipher_walk_virt(walk, req, False) == 0
    with kmem.expect_violations("warn"):
        assert skcipher_walk_done(walk, 33) == -E.EINVAL
    skcipher_request_free(req)
    src.free()
    dst.free()


@pytest.mark.parametrize("bulk_side", ["src", "dst"])
@pytest.mark.parametrize("place", ["in", "out"])
def test_in_place_told_across_window_kinds(block_tfm, bulk_side, place):
    """One side described by 16 bio_vecs (a window the bulk path resolves),
    the other by one bio_vec (a window read from the bio_vec itself): the
    walk must still see each step in place exactly when both views are the
    same bytes, whichever way each side's addresses were found."""
    from iovcrypto import bio_vec, iov_iter_bvec
    pages = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(2)]
    other = pages[1] if place == "out" else pages[0]
    many = [bio_vec(pages[0], 256, k * 256) for k in range(16)]
    one = [bio_vec(other, PAGE, 0)]
    svec, dvec = (many, one) if bulk_side == "src" else (one, many)
    src, dst = iov_iter(), iov_iter()
    iov_iter_bvec(src, ITER_SOURCE, svec, len(svec), PAGE)
    iov_iter_bvec(dst, ITER_DEST, dvec, len(dvec), PAGE)
    req = _walk_req(block_tfm, src, dst, PAGE)
    walk = SkcipherWalk()
    assert skcipher_walk_virt(walk, req, False) == 0
    steps = 0
    while walk.nbytes:
        same = (walk.src_view.__array_interface__["data"][0]
                == walk.dst_view.__array_interface__["data"][0])
        assert same == (place == "in")
        assert bool(walk.flags & SKCIPHER_WALK_DIFF) == (place == "out")
        assert (walk.src_view is walk.dst_view) == (place == "in")
        steps += 1
        assert skcipher_walk_done(walk, 0) == 0
    assert steps == 16
    skcipher_request_free(req)
    for p in pages:
        kmem.__free_page(p)
