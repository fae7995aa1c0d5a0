"""Google's published hctr2/xctr/xchacha12/adiantum vectors (the source the
kernel's testmgr vectors were generated from) through both worlds: the
scatterlist API and the iov_iter API, encrypting and decrypting, with the
data cut into two uneven pieces so the walks cross an entry boundary."""

from __future__ import annotations

import pytest

import iovcrypto
import kmem
import sgl
from iovcrypto.tools.conformance.published import PUBLISHED
from kmem import GFP_KERNEL

VECS = [(n, bytes.fromhex(k), bytes.fromhex(iv), bytes.fromhex(p), bytes.fromhex(c))
        for n, k, iv, p, c, _ in PUBLISHED]
IDS = [f"{n}-{len(p)}-{i}" for i, (n, _, _, p, _) in enumerate(VECS)]


def _pieces(data: bytes) -> list:
    cut = max(1, len(data) // 3) if len(data) > 1 else len(data)
    parts = [data[:cut], data[cut:]] if cut < len(data) else [data]
    bufs = []
    for part in parts:
        b = kmem.kmalloc(len(part), GFP_KERNEL)
        kmem.write_virt(b, part)
        bufs.append((b, len(part)))
    return bufs


def _read(bufs: list) -> bytes:
    return b"".join(kmem.read_virt(b, n) for b, n in bufs)


def _sgl(name: str, key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    tfm = sgl.crypto_alloc_skcipher(name, 0, sgl.CRYPTO_ALG_ASYNC)
    assert sgl.crypto_skcipher_setkey(tfm, key, len(key)) == 0
    req = sgl.skcipher_request_alloc(tfm, GFP_KERNEL)
    bufs = _pieces(data)
    sg = sgl.sg_array(len(bufs))
    sgl.sg_init_table(sg, len(bufs))
    for i, (b, n) in enumerate(bufs):
        sgl.sg_set_buf(sg[i], b, n)
    sgl.skcipher_request_set_crypt(req, sg, sg, len(data), bytearray(iv))
    op = sgl.crypto_skcipher_encrypt if encrypt else sgl.crypto_skcipher_decrypt
    assert op(req) == 0
    out = _read(bufs)
    sgl.skcipher_request_free(req)
    sgl.crypto_free_skcipher(tfm)
    for b, _ in bufs:
        kmem.kfree(b)
    return out


def _iov(name: str, key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    tfm = iovcrypto.crypto_alloc_skcipher(name, 0, iovcrypto.CRYPTO_ALG_ASYNC)
    assert iovcrypto.crypto_skcipher_setkey(tfm, key, len(key)) == 0
    req = iovcrypto.skcipher_request_alloc(tfm, GFP_KERNEL)
    src_bufs = _pieces(data)
    dst_bufs = _pieces(bytes(len(data)))
    src, dst = iovcrypto.iov_iter(), iovcrypto.iov_iter()
    iovcrypto.iov_iter_kvec(src, iovcrypto.ITER_SOURCE,
                            [iovcrypto.kvec(b, n) for b, n in src_bufs], len(src_bufs),
                            len(data))
    iovcrypto.iov_iter_kvec(dst, iovcrypto.ITER_DEST,
                            [iovcrypto.kvec(b, n) for b, n in dst_bufs], len(dst_bufs),
                            len(data))
    iovcrypto.skcipher_request_set_iter(req, src, dst, len(data), bytearray(iv))
    op = iovcrypto.crypto_skcipher_encrypt if encrypt else iovcrypto.crypto_skcipher_decrypt
    assert op(req) == 0
    assert iovcrypto.iov_iter_count(dst) == 0
    out = _read(dst_bufs)
    assert _read(src_bufs) == data          # out of place: the source is untouched
    iovcrypto.skcipher_request_free(req)
    iovcrypto.crypto_free_skcipher(tfm)
    for b, _ in src_bufs + dst_bufs:
        kmem.kfree(b)
    return out


@pytest.mark.parametrize("world", [_sgl, _iov], ids=["sgl", "iovcrypto"])
@pytest.mark.parametrize(("name", "key", "iv", "ptext", "ctext"), VECS, ids=IDS)
def test_published_vector(world, name: str, key: bytes, iv: bytes, ptext: bytes,
                          ctext: bytes) -> None:
    assert world(name, key, iv, ptext, True) == ctext
    assert world(name, key, iv, ctext, False) == ptext


def test_every_new_algorithm_has_a_published_vector() -> None:
    names = {n for n, *_ in PUBLISHED}
    assert names == {"hctr2(aes)", "xctr(aes)", "xchacha12", "adiantum(xchacha12,aes)",
                     "adiantum(xchacha20,aes)"}
