"""xts(aes) over iov_iters (crypto/xts.c and the arch xts drivers): the
generic "xts(ecb(aes-generic))" and the accelerated "xts-aes-openssl".

Ciphertext stealing needs the last full block and the partial tail
together, so the request is split as the kernel's arch xts drivers split
it: a sub-request over the leading whole blocks (``cryptlen -
xts_final_len(cryptlen)`` bytes) is walked with skcipher_walk, whole
blocks per step; the last 17..31 bytes are then copied out of src at
that offset into a small buffer (iter_pcopy_from, the twin of
memcpy_from_sglist: the iterator is not moved), finished by the core's
``final`` and copied into dst (iter_pcopy_to); user memory that faults
there is -EFAULT, and the API then leaves both iterators unmoved.
cryptlen < 16 is -EINVAL;
``req->iv`` is read, never written.

The accelerated driver first tries the arch glue's fast path
(aesni-intel_glue.c xts_crypt(): when the first scatterlist entry of src
and of dst each hold all of cryptlen, the whole data unit is one call on
the mapped bytes, no walk).  Its iov_iter form: src and dst are ITER_BVEC
and the request lies in each one's current bio_vec.  Anything else takes
the walk; without a tail the request itself is walked (no sub-request),
as xts_crypt_slowpath() does.
"""

from ciphers.skcipher_algs import impls
from iovcrypto.iterate import bvec_head_views
from iovcrypto.skcipher import SkcipherRequest, crypto_register_skcipher
from iovcrypto.skcipher_template import StealingDriver
from kmem import errno as E


class ArchXtsDriver(StealingDriver):
    """xts_crypt() of the arch glue: one library call when each side is
    one run of one bio_vec, else the stealing walk."""

    def _crypt(self, req: SkcipherRequest, encrypt: bool) -> int:
        n = req.cryptlen
        if n < 16:
            return -E.EINVAL
        src, dst = req.src, req.dst
        dviews = bvec_head_views(dst, n, True)
        if dviews is not None and len(dviews) == 1:
            sviews = dviews if src is dst else bvec_head_views(src, n, False)
            if sviews is not None and len(sviews) == 1 and self.impl.one_shot(
                    req.base.tfm.ctx.key, self.iv_bytes(req.iv), encrypt, sviews[0], dviews[0]):
                return 0
        return super()._crypt(req, encrypt)


DRIVERS = [(ArchXtsDriver if impl.one_shot else StealingDriver)(impl) for impl in impls("xts")]
for _drv in DRIVERS:
    crypto_register_skcipher(_drv)
