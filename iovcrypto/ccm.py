"""The ccm AEAD drivers on iov_iters (crypto/ccm.c: "ccm(aes)", "rfc4309(ccm(aes))"),
generic and accelerated.

The template's request plan is in ``ciphers.aead_algs``; the iov_iter
buffer operations are :class:`iovcrypto.aead_template.AeadTemplateDriver`'s.
"""

from __future__ import annotations

from iovcrypto.aead_template import AeadTemplateDriver, register_aead_template

__all__ = ["AeadTemplateDriver", "drivers"]

drivers = register_aead_template("ccm")
