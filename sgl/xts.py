"""xts(aes) over scatterlists (crypto/xts.c and the arch xts drivers): the
generic "xts(ecb(aes-generic))" and the accelerated "xts-aes-openssl".

Ciphertext stealing needs the last full block and the partial tail
together, so the request is split as the kernel's arch xts drivers split
it: a sub-request over the leading whole blocks (``cryptlen -
xts_final_len(cryptlen)`` bytes) is walked with skcipher_walk, whole
blocks per step; the last 17..31 bytes are then copied out of src at
that offset into a small buffer (memcpy_from_sglist, as the kernel's cts
template does with scatterwalk_ffwd), finished by the core's ``final``
and copied into dst (memcpy_to_sglist).  cryptlen < 16 is -EINVAL;
``req->iv`` is read, never written.

The accelerated driver first takes the arch glue's fast path
(aesni-intel_glue.c xts_crypt()): when the first entry of src and of dst
each hold all of cryptlen, the whole data unit is one call on the mapped
bytes (sg_virt()), with no walk.  Anything else takes the walk.
"""

from ciphers.skcipher_algs import impls
from kmem import errno as E
from sgl.scatterwalk import sg_virt_view
from sgl.skcipher import SkcipherRequest, crypto_register_skcipher
from sgl.skcipher_template import StealingDriver


class ArchXtsDriver(StealingDriver):
    """xts_crypt() of the arch glue: one library call when each side's
    first entry holds the whole request, else the stealing walk."""

    def _crypt(self, req: SkcipherRequest, encrypt: bool) -> int:
        n = req.cryptlen
        if n < 16:
            return -E.EINVAL
        d = sg_virt_view(req.dst, n, write=True)
        if d is not None:
            s = d if req.src is req.dst else sg_virt_view(req.src, n)
            if s is not None and self.impl.one_shot(req.base.tfm.ctx.key,
                                                    self.iv_bytes(req.iv), encrypt, s, d):
                return 0
        return super()._crypt(req, encrypt)


DRIVERS = [(ArchXtsDriver if impl.one_shot else StealingDriver)(impl) for impl in impls("xts")]
for _drv in DRIVERS:
    crypto_register_skcipher(_drv)
