"""essiv(cbc(aes),sha256) over scatterlists (crypto/essiv.c): the generic
"essiv(cbc(aes-generic),sha256-generic)" and the accelerated
"essiv(cbc-aes-openssl,sha256-generic)", one loop for
both, parameterised by the implementation's core factory
(ciphers.skcipher_algs).

The IV is first encrypted with the ESSIV cipher (AES-256 keyed with
SHA-256 of the key), as essiv_skcipher_crypt() does in place in
``req->iv``; then the loop is cbc's: each skcipher_walk step hands whole blocks to
the core (blocks straddling entries come gathered by the walk's slow
path); the chaining value lives in the core and goes to ``walk.iv`` on
the last step (the walk copies a bounced IV back), so ``req->iv`` ends
as the last ciphertext block (spec §3.5), in place
included.  A length that is not a whole number of blocks is -EINVAL
before anything is touched.
"""

from __future__ import annotations

from ciphers.skcipher_algs import SkcipherDriverBase, impls
from sgl.skcipher import (
    SkcipherRequest,
    crypto_register_skcipher,
    crypto_skcipher_ctx,
    crypto_skcipher_reqtfm,
)
from sgl.skcipher_walk import SkcipherWalk, skcipher_walk_done, skcipher_walk_virt


class EssivDriver(SkcipherDriverBase):
    """An essiv(cbc(aes),sha256) skcipher driver (generic or accelerated core)."""

    def _crypt(self, req: SkcipherRequest, encrypt: bool) -> int:
        """``essiv_skcipher_encrypt()`` / ``essiv_skcipher_decrypt()``."""
        tfm = crypto_skcipher_reqtfm(req)
        ctx = crypto_skcipher_ctx(tfm)
        err = self.impl.check_len(req.cryptlen)
        if err:
            return err
        walk = SkcipherWalk()
        err = skcipher_walk_virt(walk, req, False)
        core = None
        while walk.nbytes:
            if core is None:
                core = self.new_core(ctx, walk.iv, encrypt)
            n = walk.nbytes - walk.nbytes % walk.blocksize
            core.update(walk.src_view[:n], walk.dst_view[:n])
            if n == walk.total:  # the last step: the core's state is the IV output
                self.write_iv(walk.iv, core)
            err = skcipher_walk_done(walk, walk.nbytes - n)
        return err

    def encrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, True)

    def decrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, False)


DRIVERS = [EssivDriver(impl) for impl in impls("essiv")]
for _drv in DRIVERS:
    crypto_register_skcipher(_drv)
