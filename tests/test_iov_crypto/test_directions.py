"""The iov_iter crypto API's direction rules: src ITER_SOURCE, dst
ITER_DEST, one iterator as both ITER_DEST; a wrong direction WARNs and
fails with -EINVAL before anything is touched."""

from __future__ import annotations

import pytest

import iovcrypto as iov
import kmem
from iovcrypto.tools.conformance.buffers import iter_snapshot
from kmem import errno as E

KEY = bytes(range(16))


def _kbuf(data: bytes) -> int:
    addr = kmem.kmalloc(len(data), kmem.GFP_KERNEL)
    kmem.write_virt(addr, data)
    return addr


def _iter(addr: int, n: int, direction: int) -> iov.iov_iter:
    it = iov.iov_iter()
    iov.iov_iter_kvec(it, direction, [iov.kvec(addr, n)], 1, n)
    return it


def _run(src: iov.iov_iter, dst: iov.iov_iter, n: int, aead: bool = False) -> int:
    if aead:
        tfm = iov.crypto_alloc_aead("gcm-aes-openssl")
        assert iov.crypto_aead_setkey(tfm, KEY, 16) == 0
        req = iov.aead_request_alloc(tfm, kmem.GFP_KERNEL)
        iv = _kbuf(bytes(12))
        iov.aead_request_set_iter(req, src, dst, n - 16, iv)
        iov.aead_request_set_ad(req, 0)
        err = iov.crypto_aead_encrypt(req)
        iov.aead_request_free(req)
        iov.crypto_free_aead(tfm)
    else:
        tfm = iov.crypto_alloc_skcipher("cbc(aes-generic)")      # synchronous
        assert iov.crypto_skcipher_setkey(tfm, KEY, 16) == 0
        req = iov.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
        iv = _kbuf(bytes(16))
        iov.skcipher_request_set_iter(req, src, dst, n, iv)
        err = iov.crypto_skcipher_encrypt(req)
        iov.skcipher_request_free(req)
        iov.crypto_free_skcipher(tfm)
    kmem.kfree(iv)
    return err


@pytest.mark.parametrize("aead", [False, True])
@pytest.mark.parametrize("case", ["src-dest", "dst-source", "one-source"])
def test_wrong_direction_warns_and_touches_nothing(case: str, aead: bool) -> None:
    n = 64
    a, b = _kbuf(bytes(range(n))), _kbuf(b"\xee" * n)
    if case == "one-source":
        src = dst = _iter(a, n, iov.ITER_SOURCE)
    else:
        src = _iter(a, n, iov.ITER_DEST if case == "src-dest" else iov.ITER_SOURCE)
        dst = _iter(b, n, iov.ITER_SOURCE if case == "dst-source" else iov.ITER_DEST)
    before = (iter_snapshot(src), iter_snapshot(dst))
    with kmem.expect_violations("warn"):
        assert _run(src, dst, n, aead) == -E.EINVAL
    assert (iter_snapshot(src), iter_snapshot(dst)) == before
    assert kmem.read_virt(a, n) == bytes(range(n)) and kmem.read_virt(b, n) == b"\xee" * n
    kmem.kfree(a)
    kmem.kfree(b)


@pytest.mark.parametrize("aead", [False, True])
def test_one_iterator_in_place_is_dest_and_advances_once(aead: bool) -> None:
    n = 64
    a = _kbuf(bytes(range(n)))
    it = _iter(a, n, iov.ITER_DEST)
    assert _run(it, it, n, aead) == 0
    assert it.count == 0 and it.iov_offset == 0 and it.vec_idx == 1
    assert kmem.read_virt(a, n) != bytes(range(n))
    kmem.kfree(a)


@pytest.mark.parametrize("aead", [False, True])
@pytest.mark.parametrize("case", ["discard-src", "one-discard"])
def test_a_discard_src_is_refused_before_anything_is_touched(case: str, aead: bool) -> None:
    # A sink is always ITER_DEST: as src it breaks the direction rule; as
    # the one in-place iterator it has nothing to read.
    n = 64
    b = _kbuf(b"\xee" * n)
    sink = iov.iov_iter()
    iov.iov_iter_discard(sink, iov.ITER_DEST, n)
    src, dst = (sink, _iter(b, n, iov.ITER_DEST)) if case == "discard-src" else (sink, sink)
    before = (iter_snapshot(src), iter_snapshot(dst))
    with kmem.expect_violations("warn"):
        assert _run(src, dst, n, aead) == -E.EINVAL
    assert (iter_snapshot(src), iter_snapshot(dst)) == before
    assert kmem.read_virt(b, n) == b"\xee" * n
    kmem.kfree(b)


@pytest.mark.parametrize("aead", [False, True])
def test_a_discard_dst_is_computed_and_dropped(aead: bool) -> None:
    n = 64
    a = _kbuf(bytes(range(n)))
    src = _iter(a, n - 16 if aead else n, iov.ITER_SOURCE)
    sink = iov.iov_iter()
    iov.iov_iter_discard(sink, iov.ITER_DEST, n + 3)
    assert _run(src, sink, n, aead) == 0
    assert src.count == 0 and sink.count == 3 and sink.iov_offset == 0
    kmem.kfree(a)
