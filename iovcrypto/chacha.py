"""chacha20 and xchacha20 over iov_iters (crypto/chacha.c): the
generic "chacha20-generic" / "xchacha20-generic" (our numpy block
function) and the accelerated "chacha20-openssl" / "xchacha20-openssl",
one loop for all four, parameterised by the implementation's core factory
(ciphers.skcipher_algs).

The loop is the kernel's chacha_stream_xor(): every step but the last is
rounded down to the walk stride (chunksize 64, so 64-byte blocks
straddling entries come gathered); the last step takes the rest.  Neither
algorithm writes an IV back into ``req->iv``.  Any length is valid.
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


class ChaChaDriver(SkcipherDriverBase):
    """A chacha20 or xchacha20 skcipher driver."""

    def _crypt(self, req: SkcipherRequest, encrypt: bool) -> int:
        """``crypto_chacha_crypt()`` / ``crypto_xchacha_crypt()``."""
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
            err = skcipher_walk_done(walk, walk.nbytes - n)
        return err

    def encrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, True)

    def decrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, False)


DRIVERS = [ChaChaDriver(impl) for impl in impls("chacha")]
for _drv in DRIVERS:
    crypto_register_skcipher(_drv)
