"""lrw(aes) and lrw(camellia) over scatterlists (crypto/lrw.c): the generic
"lrw(ecb(aes-generic))" and "lrw(ecb-aes-openssl)", the template over the
accelerated ecb (likewise for camellia), one loop for both, parameterised
by the implementation's core factory (ciphers.skcipher_ciphers).

The kernel's lrw walks the request twice around a sub-request of its
child ecb(cipher) on dst: src ⊕ T into dst, the child encrypts dst in
place, dst ⊕ T again (the tweaks kept in a per-request buffer between
the passes).  The model's core does the three steps per span, so one
skcipher_walk over the request gives the same bytes without reading dst
back: whole blocks per step (a block straddling two entries comes
gathered by the walk's slow path), a length that is not a whole number
of blocks -EINVAL before anything is touched, and on the last step the
index after the last block goes to ``walk.iv`` (the kernel's second pass
writes it back to ``req->iv``).
"""

from sgl.skcipher_template import WalkDriver, register_template

DRIVERS = register_template("lrw", WalkDriver)
