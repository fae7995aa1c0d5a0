"""ctr(aes) and rfc3686(ctr(aes)) over scatterlists (crypto/ctr.c): the
generic "ctr(aes-generic)" / "rfc3686(ctr(aes-generic))" and the
accelerated "ctr-aes-openssl" / "rfc3686(ctr-aes-openssl)", one loop for
all four, parameterised by the implementation's core factory
(ciphers.skcipher_algs).

The loop is the kernel's crypto_ctr_crypt(): whole blocks per step (the
walk's chunksize is 16, so blocks straddling entries come gathered), the
final partial block on the last step.  ctr(aes): the counter block is the
IV and ``req->iv`` ends as the next counter (a final partial block counts
as one).  rfc3686: the counter block is nonce ‖ IV ‖ be32 1, built in the
request context as the kernel's crypto_rfc3686_crypt() does, so
``req->iv`` is left as it was.  Any length is valid, 0 included.
"""

from sgl.skcipher_template import WalkDriver, register_template

DRIVERS = register_template("ctr", WalkDriver)
