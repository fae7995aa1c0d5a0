"""Test-only drivers for the iov_iter crypto API plumbing: the converted
twins of tests/test_sgl/toy_drivers.py.

``XorSkcipher``: every byte XORed with the key (repeated), CBC-like IV
output (the next IV is the last ciphertext block), an skcipher_walk loop
over iov_iters handing whole blocks to a "core".  ``XorAead``: the same
stream with tag = SHA-256(key ‖ AD ‖ CT)[:authsize], the AD read piece by
piece with iter_pviews, the tag written/read with iter_pcopy_to/_from.
Neither is cryptography.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ciphers.algapi import CryptoAlg
from iovcrypto import (
    SkcipherWalk,
    crypto_aead_authsize,
    crypto_aead_ctx,
    crypto_aead_reqtfm,
    crypto_skcipher_ctx,
    crypto_skcipher_reqtfm,
    iter_pcopy_from,
    iter_pcopy_to,
    iter_pviews,
    skcipher_walk_aead_decrypt,
    skcipher_walk_aead_encrypt,
    skcipher_walk_done,
    skcipher_walk_virt,
)
from kmem import errno as E
from tests.test_sgl.toy_drivers import _xor, xor_reference  # noqa: F401  (the same toy cipher)


class XorSkcipher:
    def __init__(self, name: str = "xor(toy)", driver: str = "xor-toy-generic",
                 priority: int = 100, blocksize: int = 16, ivsize: int = 16,
                 walksize: int = 0, chunksize: int = 0, alignmask: int = 0,
                 min_keysize: int = 1, max_keysize: int = 32, flags: int = 0) -> None:
        self.alg = CryptoAlg(name, driver, "skcipher", cra_priority=priority,
                             cra_blocksize=blocksize, cra_alignmask=alignmask, cra_flags=flags,
                             ivsize=ivsize, walksize=walksize, chunksize=chunksize,
                             min_keysize=min_keysize, max_keysize=max_keysize)
        self.calls: list[str] = []
        self.steps: list[tuple[int, int, bool]] = []     # (nbytes, processed, slow)
        self.inits = self.exits = 0
        self.fail_with = 0           # a driver error returned after the walk
        self.record = False          # keep a copy of the bytes each step read
        self.seen: list[np.ndarray] = []

    def init(self, tfm) -> int:
        self.inits += 1
        return 0

    def exit(self, tfm) -> None:
        self.exits += 1

    def setkey(self, ctx, key: bytes) -> int:
        self.calls.append("setkey")
        if key == b"\xff" * len(key):        # a "weak key" the algorithm rejects
            return -E.EINVAL
        ctx.key = np.frombuffer(key, np.uint8).copy()
        return 0

    def _crypt(self, req, enc: bool) -> int:
        self.calls.append("encrypt" if enc else "decrypt")
        key = crypto_skcipher_ctx(crypto_skcipher_reqtfm(req)).key
        bs = self.alg.chunksize or self.alg.cra_blocksize
        walk = SkcipherWalk()
        err = skcipher_walk_virt(walk, req, False)
        pos = 0
        while walk.nbytes:
            # A block mode (blocksize > 1) takes whole blocks only; a stream
            # mode (blocksize 1, chunksize bs) also takes the final tail.
            last = walk.nbytes == walk.total and self.alg.cra_blocksize == 1
            n = walk.nbytes if last else walk.nbytes - walk.nbytes % bs
            self.steps.append((walk.nbytes, n, bool(walk.flags & 1)))
            if self.record:
                self.seen.append(walk.src_view[:n].copy())
            if not enc and walk.iv is not None and n >= bs:
                last_ct = walk.src_view[n - bs:n].copy()
            _xor(walk.dst_view[:n], walk.src_view[:n], key, pos)
            if walk.iv is not None and n >= bs:
                walk.iv[:bs] = walk.dst_view[n - bs:n] if enc else last_ct
            pos += n
            err = skcipher_walk_done(walk, walk.nbytes - n)
        return err or self.fail_with

    def encrypt(self, req) -> int:
        return self._crypt(req, True)

    def decrypt(self, req) -> int:
        return self._crypt(req, False)


class XorAead:
    def __init__(self, name: str = "xoraead(toy)", driver: str = "xoraead-toy-generic",
                 priority: int = 100, ivsize: int = 12, maxauthsize: int = 16,
                 blocksize: int = 1) -> None:
        self.alg = CryptoAlg(name, driver, "aead", cra_priority=priority,
                             cra_blocksize=blocksize, ivsize=ivsize, maxauthsize=maxauthsize)

    def setkey(self, ctx, key: bytes) -> int:
        if len(key) not in (16, 32):
            return -E.EINVAL
        ctx.key = key
        return 0

    def setauthsize(self, ctx, authsize: int) -> int:
        return 0 if authsize % 4 == 0 else -E.EINVAL

    @staticmethod
    def _tag(key: bytes, req, it, clen: int, n: int) -> bytes | int:
        h = hashlib.sha256(key)
        views, got = iter_pviews(req.src, 0, req.assoclen)
        if got != req.assoclen:
            return -E.EFAULT
        for v in views:                      # the AD, piece by piece
            h.update(v)
        views, got = iter_pviews(it, req.assoclen, clen)
        if got != clen:
            return -E.EFAULT
        for v in views:
            h.update(v)
        return h.digest()[:n]

    def _walk(self, req, key: bytes, enc: bool) -> int:
        walk = SkcipherWalk()
        err = (skcipher_walk_aead_encrypt if enc else skcipher_walk_aead_decrypt)(walk, req,
                                                                                  False)
        kb = np.frombuffer(key, np.uint8)
        pos = 0
        while walk.nbytes:
            n = walk.nbytes
            _xor(walk.dst_view[:n], walk.src_view[:n], kb, pos)
            pos += n
            err = skcipher_walk_done(walk, 0)
        return err

    def encrypt(self, req) -> int:
        tfm = crypto_aead_reqtfm(req)
        key = crypto_aead_ctx(tfm).key
        err = self._walk(req, key, True)
        if err:
            return err
        tag = self._tag(key, req, req.dst, req.cryptlen, crypto_aead_authsize(tfm))
        if isinstance(tag, int):
            return tag
        if iter_pcopy_to(req.dst, req.assoclen + req.cryptlen, tag, len(tag)) != len(tag):
            return -E.EFAULT
        return 0

    def decrypt(self, req) -> int:
        tfm = crypto_aead_reqtfm(req)
        key = crypto_aead_ctx(tfm).key
        authsize = crypto_aead_authsize(tfm)
        clen = req.cryptlen - authsize
        want = self._tag(key, req, req.src, clen, authsize)
        if isinstance(want, int):
            return want
        tag = bytearray(authsize)
        if iter_pcopy_from(tag, req.src, req.assoclen + clen, authsize) != authsize:
            return -E.EFAULT
        # Decrypt first (as generic gcm does), then compare: the API must
        # zero the plaintext on -EBADMSG.
        err = self._walk(req, key, False)
        if err:
            return err
        if want != bytes(tag):
            return -E.EBADMSG
        return 0
