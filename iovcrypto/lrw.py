"""lrw(aes) and lrw(camellia) over iov_iters (crypto/lrw.c): the generic
"lrw(ecb(aes-generic))" and "lrw(ecb-aes-openssl)", the template over the
accelerated ecb (likewise for camellia), one loop for both, parameterised
by the implementation's core factory (ciphers.skcipher_ciphers).

The conversion.  sgl/lrw.py makes the kernel's three passes: tweaks into
dst, the child ecb(cipher) on dst in place, tweaks into dst again.  Over
iov_iters that shape does not carry: dst may be a destination that cannot
be read back (ITER_DISCARD, or user pages pinned for writing), and each
pass would need its own copies of the iterators.  So the converted
template makes one pass: an skcipher_walk of src → dst whose core
(ciphers.lrw.Lrw) does tweak, block cipher and tweak on each span of
whole blocks (a block straddling two segments comes gathered by the
walk's slow path).  The bytes are the same, and the child ecb is not
needed.  A length that is not a whole number of blocks is -EINVAL before
anything is touched; on the last step the index after the last block goes
to ``walk.iv``, so ``req->iv`` ends as the kernel's second pass leaves it.
"""

from iovcrypto.skcipher_template import WalkDriver, register_template

DRIVERS = register_template("lrw", WalkDriver)
