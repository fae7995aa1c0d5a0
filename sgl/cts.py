"""cts(cbc(aes)) over scatterlists (crypto/cts.c): the generic
"cts(cbc(aes-generic))" and the accelerated "cts(cbc-aes-openssl)", one
loop for both, parameterised by the implementation's core factory
(ciphers.skcipher_algs).

The CS3 swap needs the last two blocks (the last one possibly partial)
together, so the request is split as the kernel's cts template splits
it: a sub-request over the leading whole blocks (``cryptlen -
cts_final_len(cryptlen)`` bytes) is CBC-walked with skcipher_walk, whole
blocks per step; the last 17..32 bytes (all 16 of a one-block message)
are then copied out of src at
that offset into a small buffer (memcpy_from_sglist, as the kernel's cts
template does with scatterwalk_ffwd), finished by the core's ``final``
and copied into dst (memcpy_to_sglist).  cryptlen < 16 is -EINVAL;
``req->iv`` ends as the CBC chaining value after the swap (the stored
second-to-last ciphertext block), as the kernel's sub-requests leave it.
"""

from sgl.skcipher_template import StealingDriver, register_template

DRIVERS = register_template("cts", StealingDriver)
