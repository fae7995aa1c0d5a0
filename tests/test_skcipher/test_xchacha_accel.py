"""xchacha20-openssl keeps its HChaCha20 library context in the key
schedule and re-aims it per request (ciphers.accel.HChaCha20Lib): one tfm
serving many requests, with different IVs and layouts, in both worlds,
gives the generic driver's bytes and pycryptodome's, and never writes the
IV back (crypto/chacha.c's xchacha has no IV output)."""

from __future__ import annotations

import numpy as np
import pytest
from Crypto.Cipher import ChaCha20 as PyChaCha20

import iovcrypto
import kmem
import sgl
from iovcrypto import ITER_DEST, ITER_SOURCE

_free_pages = kmem.__free_pages  # (inside a class body the name would be mangled)


def _fill(page: kmem.Page, data: bytes) -> None:
    kmem.copy_views(kmem.page_views(page, 0, len(data), write=True),
                    [np.frombuffer(data, np.uint8)])


def _read(page: kmem.Page, n: int) -> bytes:
    return kmem.gather(kmem.page_views(page, 0, n)).tobytes() if n else b""


class _Tfm:
    """One tfm and request of a world, reused for every call."""

    def __init__(self, world: str, driver: str, key: bytes) -> None:
        self.api = sgl if world == "sg" else iovcrypto
        self.world = world
        self.tfm = self.api.crypto_alloc_skcipher(driver)
        self.setkey(key)
        self.req = self.api.skcipher_request_alloc(self.tfm, kmem.GFP_KERNEL)

    def setkey(self, key: bytes) -> None:
        assert self.api.crypto_skcipher_setkey(self.tfm, key, len(key)) == 0

    def crypt(self, iv: bytes, data: bytes, layout: str, enc: bool) -> tuple[bytes, bytes]:
        """``layout``: "one" (one entry a side, out of place), "split" (src
        in two entries cut mid-block, dst one), "inplace" (one entry)."""
        api, n = self.api, len(data)
        a, b = kmem.alloc_pages(kmem.GFP_KERNEL, 1), kmem.alloc_pages(kmem.GFP_KERNEL, 1)
        _fill(a, data)
        cut = n // 3 | 1 if layout == "split" and n > 2 else 0
        pieces = [(a, cut, 0), (a, n - cut, cut)] if cut else [(a, n, 0)]
        ivbuf = bytearray(iv)
        if self.world == "sg":
            sa = sgl.sg_array(len(pieces))
            sgl.sg_init_table(sa, len(pieces))
            for sg, (p, ln, off) in zip(sa, pieces):
                sgl.sg_set_page(sg, p, ln, off)
            sb = sa
            if layout != "inplace":
                sb = sgl.sg_array(1)
                sgl.sg_init_table(sb, 1)
                sgl.sg_set_page(sb[0], b, n, 0)
            sgl.skcipher_request_set_crypt(self.req, sa, sb, n, ivbuf)
        else:
            bva = [iovcrypto.bio_vec(p, ln, off) for p, ln, off in pieces]
            dst = iovcrypto.iov_iter()
            if layout == "inplace":
                iovcrypto.iov_iter_bvec(dst, ITER_DEST, bva, len(bva), n)
                src = dst
            else:
                src = iovcrypto.iov_iter()
                iovcrypto.iov_iter_bvec(src, ITER_SOURCE, bva, len(bva), n)
                iovcrypto.iov_iter_bvec(dst, ITER_DEST, [iovcrypto.bio_vec(b, n, 0)], 1, n)
            iovcrypto.skcipher_request_set_iter(self.req, src, dst, n, ivbuf)
        fn = api.crypto_skcipher_encrypt if enc else api.crypto_skcipher_decrypt
        assert fn(self.req) == 0
        out = _read(a if layout == "inplace" else b, n)
        _free_pages(a, 1)
        _free_pages(b, 1)
        return out, bytes(ivbuf)

    def free(self) -> None:
        self.api.skcipher_request_free(self.req)
        self.api.crypto_free_skcipher(self.tfm)


@pytest.mark.parametrize("world", ["sg", "iov"])
def test_one_tfm_many_requests_match_generic_and_pycryptodome(world: str) -> None:
    rng = np.random.default_rng(16)
    key = rng.bytes(32)
    acc, gen = _Tfm(world, "xchacha20-openssl", key), _Tfm(world, "xchacha20-generic", key)
    try:
        for k in range(45):
            if k == 21:         # a new key replaces the kept context
                key = rng.bytes(32)
                acc.setkey(key)
                gen.setkey(key)
            n = int(rng.choice([0, 1, 63, 64, 65, 1000, 1025, 4096, 5000]))
            layout = ("one", "split", "inplace")[k % 3]
            enc = bool(k % 2)
            data = rng.bytes(n)
            nonce = rng.bytes(24)
            # Stream positions 0 (pycryptodome's layout), small, and ones
            # whose 32-bit block counter wraps inside the request (the high
            # word is nonce to the kernel: no carry into it).
            pos = (0, int(rng.integers(1, 1 << 20)), 0xFFFFFFFF, 0xFFFFFFF0,
                   7 << 32 | 0xFFFFFFFE)[k // 3 % 5]
            iv = nonce + pos.to_bytes(8, "little")
            got, iv_after = acc.crypt(iv, data, layout, enc)
            want, _ = gen.crypt(iv, data, layout, enc)
            assert got == want, (k, n, layout, pos)
            assert iv_after == iv, "xchacha20 wrote its IV back"
            if pos == 0:
                ref = PyChaCha20.new(key=key, nonce=nonce).encrypt(data)
                assert got == ref, (k, n, layout)
    finally:
        acc.free()
        gen.free()
