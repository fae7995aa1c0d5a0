"""Test-only drivers for the scatterlist crypto API plumbing.

``XorSkcipher``: a toy "cipher" (every byte XORed with the key, repeated)
with CBC-like IV output (the next IV is the last ciphertext block), written
the way a real driver is: an skcipher_walk loop handing whole blocks to a
core.  ``XorAead``: the same stream with a tag = SHA-256(key ‖ AD ‖ CT),
walking with skcipher_walk_aead_* and reading/writing the tag with
memcpy_{from,to}_sglist.  Neither is cryptography.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ciphers.algapi import CryptoAlg
from kmem import errno as E
from sgl import (
    SkcipherWalk,
    crypto_aead_authsize,
    crypto_aead_ctx,
    crypto_aead_reqtfm,
    crypto_skcipher_ctx,
    crypto_skcipher_reqtfm,
    memcpy_from_sglist,
    memcpy_to_sglist,
    skcipher_walk_aead_decrypt,
    skcipher_walk_aead_encrypt,
    skcipher_walk_done,
    skcipher_walk_virt,
)


def _xor(dst: np.ndarray, src: np.ndarray, key: np.ndarray, pos: int) -> None:
    ks = np.resize(np.roll(key, -(pos % len(key))), len(src))
    np.bitwise_xor(src, ks, out=dst)


def xor_reference(data: bytes, key: bytes) -> bytes:
    ks = np.resize(np.frombuffer(key, np.uint8), len(data))
    return (np.frombuffer(data, np.uint8) ^ ks).tobytes()


class XorSkcipher:
    def __init__(self, name: str = "xor(toy)", driver: str = "xor-toy-generic",
                 priority: int = 100, blocksize: int = 16, ivsize: int = 16,
                 walksize: int = 0, alignmask: int = 0, min_keysize: int = 1,
                 max_keysize: int = 32, flags: int = 0) -> None:
        self.alg = CryptoAlg(name, driver, "skcipher", cra_priority=priority,
                             cra_blocksize=blocksize, cra_alignmask=alignmask, cra_flags=flags,
                             ivsize=ivsize, walksize=walksize, min_keysize=min_keysize,
                             max_keysize=max_keysize)
        self.calls: list[str] = []
        self.steps: list[int] = []
        self.inits = self.exits = 0

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
        tfm = crypto_skcipher_reqtfm(req)
        key = crypto_skcipher_ctx(tfm).key
        bs = self.alg.cra_blocksize
        walk = SkcipherWalk()
        err = skcipher_walk_virt(walk, req, False)
        pos = 0
        while walk.nbytes:
            n = walk.nbytes if walk.nbytes == walk.total else walk.nbytes - walk.nbytes % bs
            self.steps.append(n)
            if not enc and walk.iv is not None and n >= bs:
                last_ct = walk.src_view[n - bs:n].copy()
            _xor(walk.dst_view[:n], walk.src_view[:n], key, pos)
            if walk.iv is not None and n >= bs:
                walk.iv[:bs] = walk.dst_view[n - bs:n] if enc else last_ct
            pos += n
            err = skcipher_walk_done(walk, walk.nbytes - n)
        return err

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

    def _tag(self, key: bytes, ad: bytes, ct: bytes, n: int) -> bytes:
        return hashlib.sha256(key + ad + ct).digest()[:n]

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
        ad = bytearray(req.assoclen)
        ct = bytearray(req.cryptlen)
        memcpy_from_sglist(ad, req.src, 0, req.assoclen)
        memcpy_from_sglist(ct, req.dst, req.assoclen, req.cryptlen)
        tag = self._tag(key, bytes(ad), bytes(ct), crypto_aead_authsize(tfm))
        memcpy_to_sglist(req.dst, req.assoclen + req.cryptlen, tag, len(tag))
        return 0

    def decrypt(self, req) -> int:
        tfm = crypto_aead_reqtfm(req)
        key = crypto_aead_ctx(tfm).key
        authsize = crypto_aead_authsize(tfm)
        clen = req.cryptlen - authsize
        ad, ct, tag = bytearray(req.assoclen), bytearray(clen), bytearray(authsize)
        memcpy_from_sglist(ad, req.src, 0, req.assoclen)
        memcpy_from_sglist(ct, req.src, req.assoclen, clen)
        memcpy_from_sglist(tag, req.src, req.assoclen + clen, authsize)
        if self._tag(key, bytes(ad), bytes(ct), authsize) != bytes(tag):
            return -E.EBADMSG
        return self._walk(req, key, False)
