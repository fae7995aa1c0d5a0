"""ctr(aes) and rfc3686(ctr(aes)) over iov_iters (crypto/ctr.c): the
generic "ctr(aes-generic)" / "rfc3686(ctr(aes-generic))" and the
accelerated "ctr-aes-openssl" / "rfc3686(ctr-aes-openssl)", one loop for
all four, parameterised by the implementation's core factory
(ciphers.skcipher_algs).

The loop is the kernel's crypto_ctr_crypt(): whole blocks per step (the
walk's chunksize is 16, so blocks straddling entries come gathered), the
final partial block on the last step.  ctr(aes): the counter block is the
IV and ``req->iv`` ends as the next counter (a final partial block counts
as one).  rfc3686: the counter block is nonce ‖ IV ‖ be32 1, built in the
request context as the kernel's crypto_rfc3686_crypt() does, so
``req->iv`` is left as it was.  Any length is valid, 0 included.
"""

from __future__ import annotations

from ciphers.skcipher_algs import SkcipherDriverBase, impls
from iovcrypto.skcipher import (
    SkcipherRequest,
    crypto_register_skcipher,
    crypto_skcipher_ctx,
    crypto_skcipher_reqtfm,
)
from iovcrypto.skcipher_walk import SkcipherWalk, skcipher_walk_done, skcipher_walk_virt


class CtrDriver(SkcipherDriverBase):
    """A ctr(aes) or rfc3686(ctr(aes)) skcipher driver."""

    def _crypt(self, req: SkcipherRequest, encrypt: bool) -> int:
        """``crypto_ctr_crypt()`` / ``crypto_rfc3686_crypt()``."""
        tfm = crypto_skcipher_reqtfm(req)
        ctx = crypto_skcipher_ctx(tfm)
        walk = SkcipherWalk()
        err = skcipher_walk_virt(walk, req, False)
        core = None
        while walk.nbytes:
            if core is None:
                core = self.new_core(ctx, walk.iv, encrypt)
            n = walk.nbytes
            if n < walk.total:
                n -= n % walk.stride
            core.update(walk.src_view[:n], walk.dst_view[:n])
            if n == walk.total:  # the last step: the core's state is the IV output
                self.write_iv(walk.iv, core)
            err = skcipher_walk_done(walk, walk.nbytes - n)
        return err

    def encrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, True)

    def decrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, False)


DRIVERS = [CtrDriver(impl) for impl in impls("ctr")]
for _drv in DRIVERS:
    crypto_register_skcipher(_drv)
