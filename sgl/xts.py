"""xts(aes) over scatterlists (crypto/xts.c and the arch xts drivers): the
generic "xts(ecb(aes-generic))" and the accelerated "xts-aes-openssl",
one loop for both, parameterised by the implementation's core factory
(ciphers.skcipher_algs).

Ciphertext stealing needs the last full block and the partial tail
together, so the request is split as the kernel's arch xts drivers split
it: a sub-request over the leading whole blocks (``cryptlen -
xts_final_len(cryptlen)`` bytes) is walked with skcipher_walk, whole
blocks per step; the last 17..31 bytes are then copied out of src at
that offset into a small buffer (memcpy_from_sglist, as the kernel's cts
template does with scatterwalk_ffwd), finished by the core's ``final``
and copied into dst (memcpy_to_sglist).  cryptlen < 16 is -EINVAL;
``req->iv`` is read, never written.
"""

from sgl.skcipher_template import StealingDriver, register_template

DRIVERS = register_template("xts", StealingDriver)
