"""cts(cbc(aes)) over iov_iters (crypto/cts.c): the generic
"cts(cbc(aes-generic))" and the accelerated "cts(cbc-aes-openssl)", one
loop for both, parameterised by the implementation's core factory
(ciphers.skcipher_algs).

The CS3 swap needs the last two blocks (the last one possibly partial)
together, so the request is split as the kernel's cts template splits
it: a sub-request over the leading whole blocks (``cryptlen -
cts_final_len(cryptlen)`` bytes) is CBC-walked with skcipher_walk, whole
blocks per step; the last 17..32 bytes (all 16 of a one-block message)
are then copied out of src at
that offset into a small buffer (iter_pcopy_from, the twin of
memcpy_from_sglist: the iterator is not moved), finished by the core's
``final`` and copied into dst (iter_pcopy_to); user memory that faults
there is -EFAULT, and the API then leaves both iterators unmoved.
cryptlen < 16 is -EINVAL;
``req->iv`` ends as the CBC chaining value after the swap (the stored
second-to-last ciphertext block), as the kernel's sub-requests leave it.
"""

from iovcrypto.skcipher_template import StealingDriver, register_template

DRIVERS = register_template("cts", StealingDriver)
