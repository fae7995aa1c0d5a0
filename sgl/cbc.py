"""cbc(aes) over scatterlists (crypto/cbc.c): the generic template
"cbc(aes-generic)" and the accelerated "cbc-aes-openssl", one loop for
both, parameterised by the implementation's core factory
(ciphers.skcipher_algs).

The loop is the kernel's: each skcipher_walk step hands whole blocks to
the core (blocks straddling entries come gathered by the walk's slow
path); the chaining value lives in the core and goes to ``walk.iv`` on
the last step (the walk copies a bounced IV back), so ``req->iv`` ends
as the last ciphertext block (spec §3.5), in place
included.  A length that is not a whole number of blocks is -EINVAL
before anything is touched.
"""

from sgl.skcipher_template import WalkDriver, register_template

DRIVERS = register_template("cbc", WalkDriver)
