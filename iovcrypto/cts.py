"""cts(cbc(aes)) over iov_iters (crypto/cts.c): the generic
"cts(cbc(aes-generic))" and the accelerated "cts(cbc-aes-openssl)", one
loop for both, parameterised by the implementation's core factory
(ciphers.skcipher_algs).

The CS3 swap needs the last two blocks (the last one possibly partial)
together, so the request is split as the kernel's cts template splits
it: a sub-request over the leading whole blocks (``cryptlen -
cts_final_len(cryptlen)`` bytes) is CBC-walked with skcipher_walk, whole
blocks per step; the last 17..32 bytes (all 16 of a one-block message)
are then copied out of src at
that offset into a small buffer (iter_pcopy_from, the twin of
memcpy_from_sglist: the iterator is not moved), finished by the core's
``final`` and copied into dst (iter_pcopy_to); user memory that faults
there is -EFAULT, and the API then leaves both iterators unmoved.
cryptlen < 16 is -EINVAL;
``req->iv`` ends as the CBC chaining value after the swap (the stored
second-to-last ciphertext block), as the kernel's sub-requests leave it.
"""

from __future__ import annotations

import numpy as np

from ciphers.skcipher_algs import SkcipherDriverBase, impls
from iovcrypto.skcipher import (
    SYNC_SKCIPHER_REQUEST_ON_STACK,
    SkcipherRequest,
    crypto_register_skcipher,
    crypto_skcipher_ctx,
    crypto_skcipher_reqtfm,
    skcipher_request_set_callback,
    skcipher_request_set_iter,
)
from iovcrypto.skcipher_walk import (
    SkcipherWalk,
    iter_pcopy_from,
    iter_pcopy_to,
    skcipher_walk_done,
    skcipher_walk_virt,
)
from kmem import errno as E


class CtsDriver(SkcipherDriverBase):
    """A cts(cbc(aes)) skcipher driver."""

    def _crypt(self, req: SkcipherRequest, encrypt: bool) -> int:
        """``crypto_cts_encrypt()`` / ``crypto_cts_decrypt()``."""
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
        skcipher_request_set_iter(subreq, req.src, req.dst, head, None)
        walk = SkcipherWalk()
        err = skcipher_walk_virt(walk, subreq, False)
        while walk.nbytes:
            n = walk.nbytes - walk.nbytes % walk.blocksize
            core.update(walk.src_view[:n], walk.dst_view[:n])
            err = skcipher_walk_done(walk, walk.nbytes - n)
        if err:
            return err
        buf = np.empty(tail, dtype=np.uint8)
        if iter_pcopy_from(buf, req.src, head, tail) != tail:
            return -E.EFAULT
        core.final(buf, buf)
        if iter_pcopy_to(req.dst, head, buf, tail) != tail:
            return -E.EFAULT
        self.write_iv(req.iv, core)
        return 0

    def encrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, True)

    def decrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, False)


DRIVERS = [CtsDriver(impl) for impl in impls("cts")]
for _drv in DRIVERS:
    crypto_register_skcipher(_drv)
