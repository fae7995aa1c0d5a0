"""The authenc AEAD drivers on scatterlists (crypto/authenc.c:
"authenc(hmac(sha1),cbc(aes))", "authenc(hmac(sha256),cbc(aes))",
"authenc(hmac(sha512),cbc(aes))"), generic and accelerated.  Unlike the
other templates, authenc copies the AD src -> dst when the lists differ,
and on decryption verifies the HMAC of src before decrypting anything.

The template's request plan is in ``ciphers.aead_algs``; the scatterlist
buffer operations are :class:`sgl.aead_template.AeadTemplateDriver`'s.
"""

from __future__ import annotations

from sgl.aead_template import AeadTemplateDriver, register_aead_template

__all__ = ["AeadTemplateDriver", "drivers"]

drivers = register_aead_template("authenc")
