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

from sgl.skcipher_template import WalkDriver, register_template

DRIVERS = register_template("ecb", WalkDriver)
