"""essiv(cbc(aes),sha256) over iov_iters (crypto/essiv.c): the generic
"essiv(cbc(aes-generic),sha256-generic)" and the accelerated
"essiv(cbc-aes-openssl,sha256-generic)", one loop for
both, parameterised by the implementation's core factory
(ciphers.skcipher_algs).

The IV is first encrypted with the ESSIV cipher (AES-256 keyed with
SHA-256 of the key), as essiv_skcipher_crypt() does in place in
``req->iv``; then the loop is cbc's: each skcipher_walk step hands whole blocks to
the core (blocks straddling entries come gathered by the walk's slow
path); the chaining value lives in the core and goes to ``walk.iv`` on
the last step (the walk copies a bounced IV back), so ``req->iv`` ends
as the last ciphertext block (spec §3.5), in place
included.  A length that is not a whole number of blocks is -EINVAL
before anything is touched.

The same kernel file makes the AEAD
"essiv(authenc(hmac(sha256),cbc(aes)),sha256)" (generic over
authenc(hmac(sha256-generic),cbc(aes-generic)), accelerated over the
cbc-aes-openssl one): the encrypted IV goes into the last 16 bytes of the
AD before the inner authenc runs (the plan in ciphers.essiv_aead; the
buffer operations are the AEAD templates' own).
"""

from iovcrypto.aead_template import register_aead_template
from iovcrypto.skcipher_template import WalkDriver, register_template

DRIVERS = register_template("essiv", WalkDriver)
AEAD_DRIVERS = register_aead_template("essiv")
