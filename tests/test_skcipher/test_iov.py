"""The converted drivers (iovcrypto/*.py) through the iov_iter skcipher
API, over every iterator type (KVEC over kmalloc/vmalloc/stack, BVEC over
pages, FOLIOQ, XARRAY, UBUF and IOVEC over a user mm), against the
legacy drivers through the scatterlist API (legacy vs converted), the
reference libraries, and the iov_iter API's contract: iterators advanced
by cryptlen on success, left where they were on any error."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kmem
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    crypto_alloc_skcipher,
    crypto_free_skcipher,
    crypto_skcipher_decrypt,
    crypto_skcipher_driver_name,
    crypto_skcipher_encrypt,
    crypto_skcipher_setkey,
    iov_iter,
    iov_iter_kvec,
    iov_iter_ubuf,
    kvec,
    skcipher_request_alloc,
    skcipher_request_free,
    skcipher_request_set_iter,
)
from kmem import errno as E
from tests.test_iov_iter.layouts import make
from tests.test_skcipher.helpers import (
    ALGS,
    ALL_DRIVERS,
    DRIVERS,
    expected_iv,
    rand_iv,
    rand_key,
    rand_len,
    reference,
    segments,
    sgl_crypt,
)

KINDS = ("kvec", "bvec", "folioq", "xarray", "ubuf", "iovec")
PAGE = kmem.PAGE_SIZE


def _split(rng: np.random.Generator, n: int) -> list[int]:
    if n == 0:
        return [0]
    if rng.random() < 0.2 and n <= 200:
        return [1] * n
    cuts = sorted(set(int(c) for c in rng.integers(1, n, size=int(rng.integers(0, 6))))) \
        if n > 1 else []
    pts = [0, *cuts, n]
    return [b - a for a, b in itertools.pairwise(pts)]


def layout(kind: str, n: int, extra: int, direction: int, rng: np.random.Generator):
    """An iterator of ``kind`` holding ``n + extra`` bytes."""
    want = n + extra
    if kind in ("folioq", "xarray"):
        orders = [int(o) for o in sorted(rng.integers(0, 3, size=3), reverse=True)]
        while sum(PAGE << o for o in orders) < want + PAGE:
            orders.append(2)
        orders.sort(reverse=True)
        start = int(rng.integers(0, PAGE))
        total = sum(PAGE << o for o in orders) - start
        return make(kind, [], direction, orders=orders, start=start, slack=total - want,
                    seed=int(rng.integers(1 << 30)))
    return make(kind, _split(rng, n) + ([extra] if extra else []), direction,
                seed=int(rng.integers(1 << 30)))


def iov_crypt(driver: str, key: bytes, iv: bytes, data: bytes, encrypt: bool, *,
              src_kind: str, dst_kind: str, inplace: bool = False, seed: int = 0,
              extra: int = 5) -> tuple[int, bytes, bytes, tuple[int, int, int, int]]:
    """One request through the iov_iter API; returns (err, output, iv after,
    (src count before, after, dst count before, after))."""
    rng = np.random.default_rng(seed)
    n = len(data)
    src = layout(src_kind, n, extra, ITER_DEST if inplace else ITER_SOURCE, rng)
    flat = src.flat()
    flat[:n] = np.frombuffer(data, np.uint8)
    kmem.copy_views(src.views(), [flat])
    dst = src if inplace else layout(dst_kind, n, extra, ITER_DEST, rng)
    tfm = crypto_alloc_skcipher(driver)
    try:
        assert crypto_skcipher_driver_name(tfm) == driver
        assert crypto_skcipher_setkey(tfm, key, len(key)) == 0
        req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
        ivbuf = bytearray(iv)
        counts = [src.it.count, 0, dst.it.count, 0]
        skcipher_request_set_iter(req, src.it, dst.it, n, ivbuf)
        err = (crypto_skcipher_encrypt if encrypt else crypto_skcipher_decrypt)(req)
        counts[1], counts[3] = src.it.count, dst.it.count
        assert req.src is src.it and req.dst is dst.it and req.cryptlen == n and req.iv is ivbuf
        out = dst.flat()[:n].tobytes()
        skcipher_request_free(req)
        return err, out, bytes(ivbuf), tuple(counts)
    finally:
        crypto_free_skcipher(tfm)
        src.free()
        if dst is not src:
            dst.free()


@pytest.mark.parametrize("name,driver", ALL_DRIVERS)
@pytest.mark.parametrize("kind", KINDS)
def test_converted_equals_legacy(name: str, driver: str, kind: str) -> None:
    rng = np.random.default_rng(abs(hash((driver, kind))) & 0xFFFFFFFF)
    alg = ALGS[name]
    key, iv = rand_key(rng, alg), rand_iv(rng, alg)
    n = rand_len(rng, alg, 6000)
    data = rng.bytes(n)
    for encrypt in (True, False):
        dst_kind = KINDS[int(rng.integers(len(KINDS)))]
        err, out, iv_out, counts = iov_crypt(driver, key, iv, data, encrypt, src_kind=kind,
                                             dst_kind=dst_kind, seed=n)
        assert err == 0, (driver, kind, dst_kind, n)
        assert counts[1] == counts[0] - n and counts[3] == counts[2] - n
        legacy = sgl_crypt(driver, key, iv, data, encrypt,
                           src_segs=segments(rng, n, "mixed"), seed=n)
        assert legacy.err == 0
        assert (out, iv_out) == (legacy.out, legacy.iv), (driver, kind, dst_kind, n)
        if encrypt:
            assert out == reference(name, key, iv, data, True)
            assert iv_out == expected_iv(name, iv, data, out, True)


@pytest.mark.parametrize("name", list(ALGS))
@given(seed=st.integers(0, 2**32 - 1), inplace=st.booleans())
def test_generic_vs_accelerated_iov(name: str, seed: int, inplace: bool) -> None:
    rng = np.random.default_rng(seed)
    alg = ALGS[name]
    key, iv = rand_key(rng, alg), rand_iv(rng, alg)
    n = rand_len(rng, alg, 3000)
    data = rng.bytes(n)
    kinds = [KINDS[int(k)] for k in rng.integers(len(KINDS), size=2)]
    if inplace and kinds[0] in ("folioq", "xarray"):
        kinds[0] = "bvec"
    results = [iov_crypt(d, key, iv, data, seed % 2 == 0, src_kind=kinds[0],
                         dst_kind=kinds[1], inplace=inplace, seed=seed) for d in DRIVERS[name]]
    assert results[0][0] == 0
    assert results[0][:3] == results[1][:3]
    c = results[0][3]
    assert c[1] == c[0] - n and c[3] == c[2] - n


def _kvec_iter(addr: int, lens: list[int], direction: int) -> iov_iter:
    it = iov_iter()
    segs, pos = [], 0
    for k in lens:
        segs.append(kvec(addr + pos, k))
        pos += k
    iov_iter_kvec(it, direction, segs, len(segs), pos)
    return it


@pytest.mark.parametrize("name,driver", ALL_DRIVERS)
def test_two_iterators_over_the_same_memory(name: str, driver: str) -> None:
    rng = np.random.default_rng(7)
    alg = ALGS[name]
    key, iv = rand_key(rng, alg), rand_iv(rng, alg)
    n = max(rand_len(rng, alg, 3000), alg.min_len)
    data = rng.bytes(n)
    addr = kmem.vmalloc(n)
    kmem.write_virt(addr, data)
    src = _kvec_iter(addr, _split(rng, n), ITER_SOURCE)
    dst = _kvec_iter(addr, _split(rng, n), ITER_DEST)
    tfm = crypto_alloc_skcipher(driver)
    assert crypto_skcipher_setkey(tfm, key, len(key)) == 0
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    ivbuf = bytearray(iv)
    skcipher_request_set_iter(req, src, dst, n, ivbuf)
    assert crypto_skcipher_encrypt(req) == 0
    assert kmem.read_virt(addr, n) == reference(name, key, iv, data, True)
    assert src.count == 0 and dst.count == 0
    skcipher_request_free(req)
    crypto_free_skcipher(tfm)
    kmem.vfree(addr)


@pytest.mark.parametrize("name,driver", ALL_DRIVERS)
def test_errors_leave_iterators_unmoved(name: str, driver: str) -> None:
    alg = ALGS[name]
    key = bytes(range(alg.keysizes[0]))
    tfm = crypto_alloc_skcipher(driver)
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    lay_s = make("bvec", [40, 30], ITER_SOURCE)
    lay_d = make("kvec", [50, 20], ITER_DEST)
    iv = bytearray(range(alg.ivsize))

    def run(n: int, *, enc: bool = True) -> int:
        before = (lay_s.it.count, lay_s.it.iov_offset, lay_d.it.count, lay_d.it.iov_offset)
        skcipher_request_set_iter(req, lay_s.it, lay_d.it, n, iv)
        err = (crypto_skcipher_encrypt if enc else crypto_skcipher_decrypt)(req)
        after = (lay_s.it.count, lay_s.it.iov_offset, lay_d.it.count, lay_d.it.iov_offset)
        if err:
            assert after == before, (driver, n, err)
        else:
            assert (after[0], after[2]) == (before[0] - n, before[2] - n)
        return err

    assert run(16) == -E.ENOKEY
    assert crypto_skcipher_setkey(tfm, key, len(key)) == 0
    for n in (1, 15, 17):
        want = -E.EINVAL if n < alg.min_len or n % alg.block else 0
        assert run(n, enc=n % 2 == 0) == want
    assert run(0) == (-E.EINVAL if alg.min_len else 0)
    left = lay_s.it.count
    assert run(left + 1) == -E.EINVAL      # an iterator shorter than cryptlen
    skcipher_request_free(req)
    crypto_free_skcipher(tfm)
    lay_s.free()
    lay_d.free()


@pytest.mark.parametrize("driver", DRIVERS["cts(cbc(aes))"] + DRIVERS["xts(aes)"])
def test_tail_fault_is_efault_and_unmoved(driver: str) -> None:
    """A user destination whose tail page is not mapped: the final
    (stolen) part cannot be written; -EFAULT, iterators unmoved."""
    mm = kmem.current_mm()
    base = mm.mmap(2 * PAGE)
    mm.munmap(base + PAGE, PAGE)
    n = 40
    start = base + PAGE - 30               # the last 10 bytes fall in the hole
    src = make("kvec", [n], ITER_SOURCE)
    dst = iov_iter()
    iov_iter_ubuf(dst, ITER_DEST, start, n)
    tfm = crypto_alloc_skcipher(driver)
    key = bytes(range(32))
    assert crypto_skcipher_setkey(tfm, key, 32) == 0
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    skcipher_request_set_iter(req, src.it, dst, n, bytearray(16))
    err = crypto_skcipher_encrypt(req)
    assert err == -E.EFAULT
    assert src.it.count == n and dst.count == n
    skcipher_request_free(req)
    crypto_free_skcipher(tfm)
    src.free()
    mm.munmap(base, PAGE)
