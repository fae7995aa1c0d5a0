"""The authenc AEAD drivers on scatterlists (crypto/authenc.c:
``authenc(hmac(<hash>),<child>)`` over the cbc(aes), ctr(aes) and
rfc3686(ctr(aes)) skciphers, as ciphers.authenc lists them), generic and
accelerated.  Unlike the other templates, authenc copies the AD src -> dst
when the lists differ, and on decryption verifies the HMAC of src before
decrypting anything.

The template's request plan is in ``ciphers.aead_algs``; the scatterlist
buffer operations are :class:`sgl.aead_template.AeadTemplateDriver`'s.
"""

from __future__ import annotations

from sgl.aead_template import AeadTemplateDriver, register_aead_template

__all__ = ["AeadTemplateDriver", "drivers"]

drivers = register_aead_template("authenc")
