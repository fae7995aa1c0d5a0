"""ecb(aes) over scatterlists (crypto/ecb.c): the generic template
"ecb(aes-generic)" and the accelerated "ecb-aes-openssl", one loop for
both, parameterised by the implementation's core factory
(ciphers.skcipher_algs).

The loop is the kernel's: each skcipher_walk step hands whole blocks to
the core (blocks straddling entries come gathered by the walk's slow
path).  ECB has no IV (ivsize 0), so ``walk.iv`` is None and nothing
is written back.  A length that is not a whole number of blocks is -EINVAL
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


class EcbDriver(SkcipherDriverBase):
    """An ecb(aes) skcipher driver (generic or accelerated core)."""

    def _crypt(self, req: SkcipherRequest, encrypt: bool) -> int:
        """``crypto_ecb_encrypt()`` / ``crypto_ecb_decrypt()``."""
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
            err = skcipher_walk_done(walk, walk.nbytes - n)
        return err

    def encrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, True)

    def decrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, False)


DRIVERS = [EcbDriver(impl) for impl in impls("ecb")]
for _drv in DRIVERS:
    crypto_register_skcipher(_drv)
