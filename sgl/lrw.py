"""lrw(aes) and lrw(camellia) over scatterlists (crypto/lrw.c): the generic
"lrw(ecb(aes-generic))" and "lrw(ecb-aes-openssl)", the template over the
accelerated ecb (likewise for camellia).

The kernel's shape: the template spawns its child ecb(cipher) and keys it
with all but the last 16 key bytes (the tweak key K2 stays with the
template, ciphers.lrw.LrwTable).  A request is three passes:

1. lrw_xor_tweak(): an skcipher_walk of the request, src ⊕ T → dst;
2. the child's sub-request encrypts (decrypts) dst in place;
3. lrw_xor_tweak_post(): an skcipher_walk of a sub-request dst → dst,
   dst ⊕ T again; on its last step the index after the last block goes to
   ``walk.iv``, so ``req->iv`` ends as the next block index.

Each pass hands whole blocks to ciphers.lrw.LrwTweak (the tweaks of a span
computed at once); a length that is not a whole number of blocks is
-EINVAL before anything is touched.  iovcrypto/lrw.py is the converted
twin: it cannot read dst back, so it makes one pass.
"""

from __future__ import annotations

import numpy as np

from ciphers.algapi import CRYPTO_TFM_REQ_MASK, IS_ERR
from ciphers.lrw import LRW_BLOCK_SIZE, LrwTweak
from ciphers.skcipher_algs import SkcipherDriverBase
from sgl.skcipher import (
    SYNC_SKCIPHER_REQUEST_ON_STACK,
    SkcipherRequest,
    crypto_alloc_skcipher,
    crypto_free_skcipher,
    crypto_skcipher_ctx,
    crypto_skcipher_decrypt,
    crypto_skcipher_encrypt,
    crypto_skcipher_get_flags,
    crypto_skcipher_reqtfm,
    crypto_skcipher_set_flags,
    crypto_skcipher_setkey,
    skcipher_request_set_callback,
    skcipher_request_set_crypt,
)
from sgl.skcipher_template import register_template
from sgl.skcipher_walk import SkcipherWalk, skcipher_walk_done, skcipher_walk_virt


class LrwDriver(SkcipherDriverBase):
    """crypto/lrw.c's instance: the tweak passes here, the block cipher in
    the child ecb(cipher) tfm (the driver named inside ``lrw(...)``)."""

    def init(self, tfm: object) -> int:
        err = super().init(tfm)
        if err:
            return err
        child = crypto_alloc_skcipher(self.alg.cra_driver_name[len("lrw("):-1])
        if IS_ERR(child):
            return child
        tfm.ctx.child = child
        return 0

    def exit(self, tfm: object) -> None:
        crypto_free_skcipher(getattr(tfm.ctx, "child", None))
        tfm.ctx.child = None

    def setkey(self, ctx: object, key: bytes) -> int:
        """lrw_setkey(): the child gets ``keylen - 16`` bytes and the
        caller's request flags; the last 16 bytes are K2."""
        err = super().setkey(ctx, key)
        if err:
            return err
        child = ctx.child
        crypto_skcipher_set_flags(child, crypto_skcipher_get_flags(ctx.tfm) & CRYPTO_TFM_REQ_MASK)
        return crypto_skcipher_setkey(child, key[:-LRW_BLOCK_SIZE], len(key) - LRW_BLOCK_SIZE)

    def _xor_tweak(self, ctx: object, req: SkcipherRequest, second_pass: bool) -> int:
        walk = SkcipherWalk()
        err = skcipher_walk_virt(walk, req, False)
        tweak = None
        while walk.nbytes:
            if tweak is None:
                tweak = LrwTweak(ctx.key[2], walk.iv)
            n = walk.nbytes - walk.nbytes % LRW_BLOCK_SIZE
            tweak.xor(walk.src_view[:n], walk.dst_view[:n])
            if second_pass and n == walk.total:
                walk.iv[:] = np.frombuffer(tweak.next_iv(), dtype=np.uint8)
            err = skcipher_walk_done(walk, walk.nbytes - n)
        return err

    def _crypt(self, req: SkcipherRequest, encrypt: bool) -> int:
        tfm = crypto_skcipher_reqtfm(req)
        ctx = crypto_skcipher_ctx(tfm)
        err = self.impl.check_len(req.cryptlen)
        if err:
            return err
        err = self._xor_tweak(ctx, req, False)
        if err:
            return err
        subreq = SYNC_SKCIPHER_REQUEST_ON_STACK(ctx.child)
        skcipher_request_set_callback(subreq, req.base.flags, None, None)
        skcipher_request_set_crypt(subreq, req.dst, req.dst, req.cryptlen, req.iv)
        err = (crypto_skcipher_encrypt if encrypt else crypto_skcipher_decrypt)(subreq)
        if err:
            return err
        post = SYNC_SKCIPHER_REQUEST_ON_STACK(tfm)
        skcipher_request_set_callback(post, req.base.flags, None, None)
        skcipher_request_set_crypt(post, req.dst, req.dst, req.cryptlen, req.iv)
        return self._xor_tweak(ctx, post, True)

    def encrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, True)

    def decrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, False)


DRIVERS = register_template("lrw", LrwDriver)
