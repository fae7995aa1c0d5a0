"""xctr(aes) over iov_iters (crypto/xctr.c): the generic "xctr(aes-generic)".
No library offers XCTR (the keystream block is E(IV ⊕ le128(i)), not a
big-endian CTR counter), so there is no accelerated driver.

The loop is ctr's: whole blocks per step, the final partial block on the
last step; any length is valid, 0 included, and ``req->iv`` is left as
it was.
"""

from iovcrypto.skcipher_template import WalkDriver, register_template

DRIVERS = register_template("xctr", WalkDriver)
