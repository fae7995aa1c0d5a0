"""The chacha20poly1305 AEAD drivers on iov_iters (crypto/chacha20poly1305.c:
"rfc7539(chacha20,poly1305)", "rfc7539esp(chacha20,poly1305)"), generic
and accelerated.

The template's request plan is in ``ciphers.aead_algs``; the iov_iter
buffer operations are :class:`iovcrypto.aead_template.AeadTemplateDriver`'s.
"""

from __future__ import annotations

from iovcrypto.aead_template import AeadTemplateDriver, register_aead_template

__all__ = ["AeadTemplateDriver", "drivers"]

drivers = register_aead_template("chacha20poly1305")
