"""chacha20 and xchacha20 over scatterlists (crypto/chacha.c): the
generic "chacha20-generic" / "xchacha20-generic" (our numpy block
function) and the accelerated "chacha20-openssl" / "xchacha20-openssl",
one loop for all four, parameterised by the implementation's core factory
(ciphers.skcipher_algs).

The loop is the kernel's chacha_stream_xor(): every step but the last is
rounded down to the walk stride (chunksize 64, so 64-byte blocks
straddling entries come gathered); the last step takes the rest.  Neither
algorithm writes an IV back into ``req->iv``.  Any length is valid.
"""

from sgl.skcipher_template import WalkDriver, register_template

DRIVERS = register_template("chacha", WalkDriver)
