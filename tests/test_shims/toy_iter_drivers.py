"""Test-only drivers for the iov_iter crypto API, twins of
tests/test_sgl/toy_drivers.py: the same XOR "cipher" (and SHA-256 tag),
reading and writing the request's iterators with copy_from_iter/
copy_to_iter on private copies (the API moves the caller's).  Neither is
cryptography."""

from __future__ import annotations

import hashlib

import numpy as np

import kmem
from ciphers.algapi import CryptoAlg
from iovcrypto import copy_from_iter, copy_to_iter, iov_iter_advance
from kmem import errno as E


def _xor(data: np.ndarray, key: np.ndarray) -> np.ndarray:
    return data ^ np.resize(key, len(data))


def _read(it, skip: int, n: int) -> np.ndarray:
    buf = np.zeros(n, np.uint8)
    c = it.copy()
    iov_iter_advance(c, skip)
    assert copy_from_iter(buf, n, c) == n
    return buf


def _write(it, skip: int, data: np.ndarray) -> None:
    c = it.copy()
    iov_iter_advance(c, skip)
    assert copy_to_iter(data, len(data), c) == len(data)


class IterXorSkcipher:
    def __init__(self, name: str = "xor(toy)", driver: str = "xor-toy-iter",
                 priority: int = 100, blocksize: int = 16, ivsize: int = 16,
                 flip: int | None = None) -> None:
        self.alg = CryptoAlg(name, driver, "skcipher", cra_priority=priority,
                             cra_blocksize=blocksize, ivsize=ivsize, min_keysize=1,
                             max_keysize=32)
        self.flip = flip      # a planted fault: flip this output byte

    def setkey(self, ctx, key: bytes) -> int:
        if key == b"\xff" * len(key):
            return -E.EINVAL
        ctx.key = np.frombuffer(key, np.uint8).copy()
        return 0

    def _crypt(self, req, enc: bool) -> int:
        key = req.base.tfm.ctx.key
        bs = self.alg.cra_blocksize
        n = req.cryptlen
        src = _read(req.src, 0, n)
        out = _xor(src, key)
        if self.flip is not None and self.flip < n:
            out[self.flip] ^= 1
        _write(req.dst, 0, out)
        if req.iv is not None and n >= bs:
            last = (out if enc else src)[n - bs:]
            kmem.copy_views(kmem.buffer_views(req.iv, bs, write=True), [last])
        return 0

    def encrypt(self, req) -> int:
        return self._crypt(req, True)

    def decrypt(self, req) -> int:
        return self._crypt(req, False)


class IterXorAead:
    def __init__(self, name: str = "xoraead(toy)", driver: str = "xoraead-toy-iter",
                 priority: int = 100, ivsize: int = 12, maxauthsize: int = 16) -> None:
        self.alg = CryptoAlg(name, driver, "aead", cra_priority=priority, cra_blocksize=1,
                             ivsize=ivsize, maxauthsize=maxauthsize)

    def setkey(self, ctx, key: bytes) -> int:
        if len(key) not in (16, 32):
            return -E.EINVAL
        ctx.key = key
        return 0

    def setauthsize(self, ctx, authsize: int) -> int:
        return 0 if authsize % 4 == 0 else -E.EINVAL

    def encrypt(self, req) -> int:
        tfm = req.base.tfm
        key = tfm.ctx.key
        a, n = req.assoclen, req.cryptlen
        ad = _read(req.src, 0, a)
        ct = _xor(_read(req.src, a, n), np.frombuffer(key, np.uint8))
        _write(req.dst, a, ct)
        tag = hashlib.sha256(key + ad.tobytes() + ct.tobytes()).digest()[:tfm.authsize]
        _write(req.dst, a + n, np.frombuffer(tag, np.uint8))
        return 0

    def decrypt(self, req) -> int:
        tfm = req.base.tfm
        key = tfm.ctx.key
        a, n = req.assoclen, req.cryptlen - tfm.authsize
        ad = _read(req.src, 0, a)
        ct = _read(req.src, a, n)
        tag = _read(req.src, a + n, tfm.authsize)
        if hashlib.sha256(key + ad.tobytes() + ct.tobytes()).digest()[:tfm.authsize] != \
                tag.tobytes():
            return -E.EBADMSG
        _write(req.dst, a, _xor(ct, np.frombuffer(key, np.uint8)))
        return 0
