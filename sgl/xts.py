"""xts(aes) over scatterlists (crypto/xts.c and the arch xts drivers): the
generic "xts(ecb(aes-generic))" and the accelerated "xts-aes-openssl",
one loop for both, parameterised by the implementation's core factory
(ciphers.skcipher_algs).

Ciphertext stealing needs the last full block and the partial tail
together, so the request is split as the kernel's arch xts drivers split
it: a sub-request over the leading whole blocks (``cryptlen -
xts_final_len(cryptlen)`` bytes) is walked with skcipher_walk, whole
blocks per step; the last 17..31 bytes are then copied out of src at
that offset into a small buffer (memcpy_from_sglist, as the kernel's cts
template does with scatterwalk_ffwd), finished by the core's ``final``
and copied into dst (memcpy_to_sglist).  cryptlen < 16 is -EINVAL;
``req->iv`` is read, never written.
"""

from __future__ import annotations

import numpy as np

from ciphers.skcipher_algs import SkcipherDriverBase, impls
from sgl.scatterwalk import memcpy_from_sglist, memcpy_to_sglist
from sgl.skcipher import (
    SYNC_SKCIPHER_REQUEST_ON_STACK,
    SkcipherRequest,
    crypto_register_skcipher,
    crypto_skcipher_ctx,
    crypto_skcipher_reqtfm,
    skcipher_request_set_callback,
    skcipher_request_set_crypt,
)
from sgl.skcipher_walk import SkcipherWalk, skcipher_walk_done, skcipher_walk_virt


class XtsDriver(SkcipherDriverBase):
    """An xts(aes) skcipher driver."""

    def _crypt(self, req: SkcipherRequest, encrypt: bool) -> int:
        """``xts_encrypt()`` / ``xts_decrypt()``."""
        tfm = crypto_skcipher_reqtfm(req)
        ctx = crypto_skcipher_ctx(tfm)
        err = self.impl.check_len(req.cryptlen)
        if err:
            return err
        core = self.new_core(ctx, self.read_iv(req.iv), encrypt)
        tail = self.impl.final_len(req.cryptlen)
        head = req.cryptlen - tail
        subreq = SYNC_SKCIPHER_REQUEST_ON_STACK(tfm)
        skcipher_request_set_callback(subreq, req.base.flags, None, None)
        skcipher_request_set_crypt(subreq, req.src, req.dst, head, None)
        walk = SkcipherWalk()
        err = skcipher_walk_virt(walk, subreq, False)
        while walk.nbytes:
            n = walk.nbytes - walk.nbytes % walk.blocksize
            core.update(walk.src_view[:n], walk.dst_view[:n])
            err = skcipher_walk_done(walk, walk.nbytes - n)
        if err:
            return err
        buf = np.empty(tail, dtype=np.uint8)
        memcpy_from_sglist(buf, req.src, head, tail)
        core.final(buf, buf)
        memcpy_to_sglist(req.dst, head, buf, tail)
        self.write_iv(req.iv, core)
        return 0

    def encrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, True)

    def decrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, False)


DRIVERS = [XtsDriver(impl) for impl in impls("xts")]
for _drv in DRIVERS:
    crypto_register_skcipher(_drv)
