"""Property tests over random layouts and memory kinds."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kmem
from sgl import (
    SkcipherWalk,
    crypto_alloc_skcipher,
    crypto_free_skcipher,
    crypto_register_skcipher,
    crypto_skcipher_setkey,
    crypto_unregister_skcipher,
    memcpy_sglist,
    scatterwalk_ffwd,
    scatterwalk_map_and_copy,
    sg_array,
    sg_copy_from_buffer,
    sg_copy_to_buffer,
    skcipher_request_alloc,
    skcipher_request_free,
    skcipher_request_set_crypt,
    skcipher_walk_done,
    skcipher_walk_virt,
)
from tests.test_sgl.layouts import build, flat_buffer
from tests.test_sgl.toy_drivers import XorSkcipher

segment = st.tuples(st.sampled_from(["page", "folio", "kmalloc", "vmalloc", "stack", "tail",
                                     "zero"]),
                    st.integers(1, 5000))
layouts = st.tuples(st.lists(segment, min_size=1, max_size=8), st.sampled_from([0, 2, 3, 5]),
                    st.integers(0, 2**16))


def _build(spec):
    segs, chunk, seed = spec
    return build(segs, chunk=chunk, seed=seed)


@given(layouts)
def test_copy_from_then_to_buffer_is_identity(spec):
    lay = _build(spec)
    data = flat_buffer(lay.total, spec[2])
    assert sg_copy_from_buffer(lay.sgl, lay.nents, data, lay.total) == lay.total
    out = np.zeros(lay.total, np.uint8)
    assert sg_copy_to_buffer(lay.sgl, lay.nents, out, lay.total) == lay.total
    assert np.array_equal(out, data)
    assert np.array_equal(lay.flat(), data)
    lay.free()


@given(layouts, st.data())
def test_map_and_copy_agrees_with_flat_model(spec, data):
    lay = _build(spec)
    model = lay.flat()
    start = data.draw(st.integers(0, lay.total))
    n = data.draw(st.integers(0, lay.total - start))
    out = np.zeros(n, np.uint8)
    scatterwalk_map_and_copy(out, lay.sgl, start, n, 0)
    assert np.array_equal(out, model[start:start + n])
    new = flat_buffer(n, start)
    scatterwalk_map_and_copy(new, lay.sgl, start, n, 1)
    model[start:start + n] = new
    assert np.array_equal(lay.flat(), model)
    # ffwd to the same offset describes the same tail.
    if start < lay.total:
        tail = scatterwalk_ffwd(sg_array(2), lay.sgl, start)
        rest = np.zeros(lay.total - start, np.uint8)
        scatterwalk_map_and_copy(rest, tail, 0, len(rest), 0)
        assert np.array_equal(rest, model[start:])
    lay.free()


@given(layouts, layouts)
def test_memcpy_sglist_between_random_lists(a_spec, b_spec):
    a, b = _build(a_spec), _build(b_spec)
    n = min(a.total, b.total)
    model = b.flat()
    model[:n] = a.flat()[:n]
    memcpy_sglist(b.sgl, a.sgl, n)
    assert np.array_equal(b.flat(), model)
    a.free()
    b.free()


@pytest.fixture(scope="module")
def walk_tfms():
    made = {}
    for bs, walksize in ((1, 16), (16, 16), (16, 64), (8, 8)):
        drv = XorSkcipher(driver=f"xor-prop-{bs}-{walksize}", blocksize=bs, walksize=walksize,
                          alignmask=3 if bs == 8 else 0)
        assert crypto_register_skcipher(drv) == 0
        tfm = crypto_alloc_skcipher(drv.alg.cra_driver_name)
        crypto_skcipher_setkey(tfm, b"k" * 16, 16)
        made[bs, walksize] = (drv, tfm)
    yield made
    for drv, tfm in made.values():
        crypto_free_skcipher(tfm)
        crypto_unregister_skcipher(drv)


@given(layouts, layouts, st.sampled_from([(1, 16), (16, 16), (16, 64), (8, 8)]), st.data())
def test_skcipher_walk_visits_cryptlen_in_order_in_blocks(walk_tfms, s_spec, d_spec, cfg, data):
    bs, stride = cfg
    src, dst = _build(s_spec), _build(d_spec)
    n = min(src.total, dst.total)
    cryptlen = data.draw(st.integers(0, n))
    if bs > 1:
        cryptlen -= cryptlen % bs
    tfm = walk_tfms[cfg][1]
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    skcipher_request_set_crypt(req, src.sgl, dst.sgl, cryptlen, bytearray(16))
    expect_dst = dst.flat()
    expect_dst[:cryptlen] = src.flat()[:cryptlen] ^ 0x3C
    walk = SkcipherWalk()
    err = skcipher_walk_virt(walk, req, False)
    visited = 0
    while walk.nbytes:
        assert walk.nbytes == walk.total or walk.nbytes >= min(stride, walk.total)
        k = walk.nbytes if walk.nbytes == walk.total else walk.nbytes - walk.nbytes % bs
        assert k % bs == 0 or k == walk.total
        walk.dst_view[:k] = walk.src_view[:k] ^ 0x3C
        visited += k
        err = skcipher_walk_done(walk, walk.nbytes - k)
    assert err == 0 and visited == cryptlen
    assert np.array_equal(dst.flat(), expect_dst)
    assert not kmem.ledger.kmaps
    skcipher_request_free(req)
    src.free()
    dst.free()
